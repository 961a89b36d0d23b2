"""Drill runs: request (one active run per definition, enforced by the database), start, execute, finish.

``drill_run_execute`` is the runner. Each step is written as an append-only row when it ends. Provisioning happens
only once the golden version's artifact is known to exist in the recovery location; everything provisioned is
destroyed in a ``finally`` (and by the janitor if the worker dies first, since every resource carries the run's tag).
RTO is measured from the start (the simulated failure point) until every health check is green; RPO is the failure
point minus the newest recovery point.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.drift.engine import Rules
from apps.events.services import emit
from apps.images.models import ImageArtifact, ImageVersion
from apps.inventory.services.resolution import ImageResolver, ref_key_for
from apps.tenancy.services import audit_record, ensure_permitted_on
from qlrf.errors import Conflict
from qlrf.taskqueue import task_on_commit

from ..checks import CheckContext, get_check
from ..choices import DrillRunStatusChoices as Status
from ..choices import DrillRunTriggerChoices, DrillStepKindChoices, DrillStepStatusChoices
from ..models import DrillDefinition, DrillRun, DrillStep, HealthCheckResult
from ..provisioners import BaseProvisioner, ProvisionError, get_provisioner_class

logger = logging.getLogger(__name__)
RUN_TASK = "apps.resilience.tasks.drill_run_task"


class DrillInProgress(Conflict):
    """Another run of the definition is queued or running."""

    def __init__(self, definition: DrillDefinition):
        super().__init__("drill_in_progress", f"a run of drill {definition.name} is already queued or running")


class DrillFailed(Exception):
    """The drill found a problem (a finding, not a crash): the run fails with this reason."""


def _deadline(definition: DrillDefinition, start: dt.datetime) -> dt.datetime:
    minutes = (definition.document.get("teardown") or {}).get("max_duration_minutes", 60)
    return start + dt.timedelta(minutes=minutes)


def drill_run_start(*, actor, definition: DrillDefinition, trigger: str) -> DrillRun:
    """Create a queued run, or raise DrillInProgress (the partial unique index decides, even between processes)."""
    ensure_permitted_on(actor, definition, "run")
    now = timezone.now()
    try:
        with transaction.atomic():
            run = DrillRun.objects.create(
                organization=definition.organization,
                definition=definition,
                definition_digest=definition.digest,
                trigger=trigger,
                requested_by=actor if actor is not None and actor.pk else None,
                deadline_at=_deadline(definition, now),
                rto_objective_seconds=definition.rto_objective_seconds,
                rpo_objective_seconds=definition.rpo_objective_seconds,
            )
            audit_record(organization=definition.organization, actor=actor, action="resilience.drill.run", obj=run)
    except IntegrityError:
        raise DrillInProgress(definition) from None
    return run


@transaction.atomic
def drill_run_request(*, actor, definition: DrillDefinition, trigger: str = DrillRunTriggerChoices.MANUAL) -> DrillRun:
    """Queue a run and run it once the transaction commits (the task cluster, or in-process without one)."""
    run = drill_run_start(actor=actor, definition=definition, trigger=trigger)
    task_on_commit(RUN_TASK, run.pk, task_name=f"drill-run-{run.pk}")
    return run


def _payload(run: DrillRun) -> dict:
    return {
        "drill_run": run.pk,
        "drill": run.definition.name,
        "status": run.status,
        "golden_version": str(run.golden_version) if run.golden_version_id else None,
        "rto_seconds": run.rto_seconds,
        "rpo_seconds": run.rpo_seconds,
        "rto_met": run.rto_met,
        "rpo_met": run.rpo_met,
        "reasons": list(run.reasons),
        "resources": list(run.resources),
    }


def _claim(run: DrillRun) -> bool:
    """queued → running, once (a duplicate task delivery finds the run no longer queued)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = DrillRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(status=Status.RUNNING, started_at=now)
        if not claimed:
            return False
        run.refresh_from_db()
        emit(
            organization=run.organization, type="drill.run.started", payload=_payload(run), subject=run.definition.name
        )
    return True


class _Steps:
    """Writes each finished step as one append-only row."""

    def __init__(self, run: DrillRun):
        self.run = run
        self.sequence = run.steps.count()

    def add(self, kind: str, status: str, started: dt.datetime, detail: str = "", **data) -> None:
        self.sequence += 1
        DrillStep.objects.create(
            organization=self.run.organization,
            run=self.run,
            sequence=self.sequence,
            kind=kind,
            status=status,
            started_at=started,
            finished_at=timezone.now(),
            detail=detail[:2000],
            data=data,
        )


def _golden(run: DrillRun, provisioner: BaseProvisioner) -> tuple[ImageVersion, ImageArtifact]:
    """The channel's version in force at the failure point (drift's rules) and its artifact in the recovery location."""
    definition = run.definition
    timeline = Rules(run.organization, run.started_at).timelines.get((definition.family_id, definition.environment_id))
    assignment = timeline.in_force(run.started_at) if timeline else None
    if assignment is None:
        raise DrillFailed(f"channel {definition.family.slug}/{definition.environment.slug} has no golden version")
    version = ImageVersion.objects.select_related("family").get(pk=assignment.to_id)
    artifacts = list(ImageArtifact.objects.filter(version=version, platform=definition.platform))
    local = [a for a in artifacts if provisioner.artifact_matches(a)]
    if not local:
        elsewhere = ", ".join(sorted({a.region or "(no region)" for a in artifacts})) or "nowhere"
        raise DrillFailed(f"golden version {version} has no copy in {provisioner.location} (copies in: {elsewhere})")
    for artifact in local:
        if provisioner.artifact_present(artifact.image_ref):
            return version, artifact
    raise DrillFailed(
        f"golden version {version}'s copy {local[0].image_ref} no longer exists in {provisioner.location}"
    )


def _run_check(run: DrillRun, context: CheckContext) -> tuple[bool, str]:
    """Attempts of one check on one machine until green or out of retries; every attempt stored."""
    spec, check = context.spec, get_check(context.spec["type"])
    attempts = 1 + int(spec.get("retries", 3))
    detail = ""
    for attempt in range(1, attempts + 1):
        began, clock = timezone.now(), time.monotonic()
        try:
            outcome = check.probe(context)
            passed, detail = outcome.passed, outcome.detail
        except ProvisionError as exc:
            passed, detail = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - a custom check's bug is a red result, never a crashed drill
            passed, detail = False, f"{type(exc).__name__}: {exc}"[:500]
        HealthCheckResult.objects.create(
            organization=run.organization,
            run=run,
            check_name=spec["name"],
            check_type=spec["type"],
            resource=context.machine.id,
            attempt=attempt,
            passed=passed,
            detail=detail[:1000],
            checked_at=began,
            duration_ms=round((time.monotonic() - clock) * 1000),
        )
        if passed:
            return True, detail
        if attempt < attempts:
            time.sleep(float(spec.get("interval_seconds", 10)))
    return False, detail


def _health_checks(run: DrillRun, provisioner, machines, golden: ImageVersion) -> dt.datetime | None:
    """Run every check on every machine; the moment all were green, or None with the reasons recorded."""
    resolver = ImageResolver.load(run.organization)
    platform = run.definition.platform

    def version_of(image_ref: str) -> int | None:
        return resolver.resolve(platform, ref_key_for(platform, image_ref))[1]

    red = []
    for spec in run.definition.document["health_checks"]:
        for machine in machines:
            context = CheckContext(machine, spec, platform, golden.pk, version_of, provisioner)
            passed, detail = _run_check(run, context)
            if not passed:
                red.append(f"health check {spec['name']} never green on {machine.id}: {detail}")
    if red:
        raise DrillFailed("; ".join(red))
    return timezone.now()


def _recovery_point(run: DrillRun, provisioner, golden: ImageVersion) -> tuple[dt.datetime | None, str]:
    spec = run.definition.document["recovery_point"]
    if spec["source"] == "image_release":
        return golden.released_at or golden.created_at, f"{golden} released"
    point = provisioner.recovery_point(spec)
    return (point.at, point.ref) if point else (None, "")


def _build_provisioner(definition: DrillDefinition) -> BaseProvisioner:
    cls = get_provisioner_class(definition.platform)
    poll = float(getattr(settings, "QLRF_DRILL_POLL_SECONDS", 5.0))
    return cls(connector=definition.connector, target=definition.document["target"], poll_seconds=poll)


def drill_run_execute(*, run: DrillRun) -> DrillRun:
    """Run a queued drill end to end; idempotent (a run no longer queued is returned unchanged)."""
    if not _claim(run):
        return run
    run = DrillRun.objects.select_related("definition__family", "definition__environment", "definition__connector").get(
        pk=run.pk
    )
    steps, reasons, state = _Steps(run), [], {"ids": [], "status": Status.ERROR}
    provisioner = None
    try:
        provisioner = _build_provisioner(run.definition)
        _execute(run, provisioner, steps, reasons, state)
    except DrillFailed as exc:
        reasons.append(str(exc))
        state["status"] = Status.FAILED
    except ProvisionError as exc:
        reasons.append(str(exc))
        state["status"] = Status.ERROR
    except Exception as exc:
        logger.exception("drill run %s crashed", run.pk)
        reasons.append(f"{type(exc).__name__}: {exc}")
        state["status"] = Status.ERROR
    finally:
        if state["ids"] and provisioner is not None:
            _teardown(run, provisioner, steps, reasons, state)
    return _finish(run, state["status"], reasons)


def _execute(run: DrillRun, provisioner, steps: _Steps, reasons: list[str], state: dict) -> None:
    definition = run.definition
    began = timezone.now()
    try:
        golden, artifact = _golden(run, provisioner)
    except (DrillFailed, ProvisionError) as exc:
        steps.add(DrillStepKindChoices.RESOLVE, DrillStepStatusChoices.FAILED, began, str(exc))
        raise
    DrillRun.objects.filter(pk=run.pk).update(golden_version=golden, image_ref=artifact.image_ref)
    run.golden_version, run.image_ref = golden, artifact.image_ref
    steps.add(
        DrillStepKindChoices.RESOLVE,
        DrillStepStatusChoices.OK,
        began,
        f"{golden} as {artifact.image_ref}",
        version=str(golden),
        image_ref=artifact.image_ref,
        location=provisioner.location,
    )

    began = timezone.now()
    point_at, point_ref = _recovery_point(run, provisioner, golden)
    status = DrillStepStatusChoices.OK if point_at else DrillStepStatusChoices.FAILED
    steps.add(DrillStepKindChoices.RECOVERY_POINT, status, began, point_ref or "no recovery point found")
    DrillRun.objects.filter(pk=run.pk).update(recovery_point_at=point_at, recovery_point_ref=point_ref)
    run.recovery_point_at, run.recovery_point_ref = point_at, point_ref

    began = timezone.now()
    try:
        ids = provisioner.provision(
            image_ref=artifact.image_ref, pilot=definition.document["pilot_light"], tag=run.tag_value
        )
    except ProvisionError as exc:
        steps.add(DrillStepKindChoices.PROVISION, DrillStepStatusChoices.ERROR, began, str(exc))
        raise
    state["ids"] = ids
    DrillRun.objects.filter(pk=run.pk).update(resources=ids)
    run.resources = ids
    steps.add(DrillStepKindChoices.PROVISION, DrillStepStatusChoices.OK, began, f"{len(ids)} machine(s)", ids=ids)

    began = timezone.now()
    remaining = max(1.0, (run.deadline_at - timezone.now()).total_seconds())
    machines = provisioner.wait_running(ids, timeout=remaining)
    states = {m.id: m.state for m in machines}
    if not all(m.state == "running" for m in machines):
        steps.add(
            DrillStepKindChoices.WAIT_RUNNING, DrillStepStatusChoices.FAILED, began, "not all running", states=states
        )
        raise DrillFailed(f"machines did not reach running: {states}")
    steps.add(DrillStepKindChoices.WAIT_RUNNING, DrillStepStatusChoices.OK, began, "all running", states=states)

    began = timezone.now()
    try:
        green_at = _health_checks(run, provisioner, machines, golden)
    except DrillFailed as exc:
        steps.add(DrillStepKindChoices.HEALTH_CHECKS, DrillStepStatusChoices.FAILED, began, str(exc))
        reasons.append(str(exc))
        _measure(run, steps, reasons, green_at=None)
        state["status"] = Status.FAILED
        return
    steps.add(DrillStepKindChoices.HEALTH_CHECKS, DrillStepStatusChoices.OK, began, "all checks green")
    state["status"] = _measure(run, steps, reasons, green_at=green_at)


def _measure(run: DrillRun, steps: _Steps, reasons: list[str], *, green_at: dt.datetime | None) -> str:
    """RTO and RPO against the objectives; the run's verdict (passed or failed) with a reason per miss."""
    began = timezone.now()
    rto = (green_at - run.started_at).total_seconds() if green_at else None
    rpo = (run.started_at - run.recovery_point_at).total_seconds() if run.recovery_point_at else None
    rto_met = rto is not None and rto <= run.rto_objective_seconds
    rpo_met = rpo is not None and rpo <= run.rpo_objective_seconds
    if rto is None:
        reasons.append(
            f"RTO objective ({run.rto_objective_seconds} s) missed: the health checks never all turned green"
        )
    elif not rto_met:
        reasons.append(f"RTO {rto:.0f} s exceeds the objective of {run.rto_objective_seconds} s")
    if rpo is None:
        reasons.append("RPO not measurable: no recovery point found")
    elif not rpo_met:
        reasons.append(f"RPO {rpo:.0f} s exceeds the objective of {run.rpo_objective_seconds} s")
    DrillRun.objects.filter(pk=run.pk).update(rto_seconds=rto, rpo_seconds=rpo, rto_met=rto_met, rpo_met=rpo_met)
    run.rto_seconds, run.rpo_seconds, run.rto_met, run.rpo_met = rto, rpo, rto_met, rpo_met
    status = DrillStepStatusChoices.OK if rto_met and rpo_met else DrillStepStatusChoices.FAILED
    steps.add(
        DrillStepKindChoices.MEASURE, status, began, f"RTO {rto} s, RPO {rpo} s", rto_seconds=rto, rpo_seconds=rpo
    )
    return Status.PASSED if rto_met and rpo_met else Status.FAILED


def _teardown(run: DrillRun, provisioner, steps: _Steps, reasons: list[str], state: dict) -> None:
    began = timezone.now()
    try:
        provisioner.destroy(state["ids"])
        left = [
            m.id
            for m in provisioner.describe(state["ids"])
            if m.state not in ("terminated", "missing", "shutting-down")
        ]
    except ProvisionError as exc:
        left, detail = state["ids"], str(exc)
    else:
        detail = f"{len(state['ids']) - len(left)} of {len(state['ids'])} destroyed"
    if left:
        reasons.append(f"teardown incomplete ({detail}); the janitor will remove {', '.join(left)}")
        state["status"] = Status.ERROR
        steps.add(DrillStepKindChoices.TEARDOWN, DrillStepStatusChoices.ERROR, began, detail, left=left)
    else:
        steps.add(DrillStepKindChoices.TEARDOWN, DrillStepStatusChoices.OK, began, detail, ids=state["ids"])


@transaction.atomic
def _finish(run: DrillRun, status: str, reasons: list[str]) -> DrillRun:
    """running → final status, once; the finished row is never edited again."""
    updated = DrillRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        status=status, finished_at=timezone.now(), reasons=reasons
    )
    run.refresh_from_db()
    if updated:
        emit(
            organization=run.organization, type="drill.run.finished", payload=_payload(run), subject=run.definition.name
        )
    return run
