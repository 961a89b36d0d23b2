"""The janitor: abandon runs past their deadline, then destroy every tagged resource whose run is not active.

It sweeps every recovery location a definition names (connector × account/region or datacenter) and trusts only the
platform's tags, so resources of a run whose worker was killed, or whose row was never committed, are found too.
"""

from __future__ import annotations

import dataclasses
import logging

from django.db import transaction
from django.utils import timezone

from apps.events.services import emit

from ..choices import DrillRunStatusChoices, DrillStepKindChoices, DrillStepStatusChoices
from ..models import DrillDefinition, DrillRun, DrillStep
from ..provisioners import ProvisionError
from .runs import _build_provisioner, _payload

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class JanitorReport:
    abandoned: int = 0
    destroyed: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)


def _abandon_overdue(now) -> int:
    """Active runs past their deadline died with their worker: mark them abandoned (one event each)."""
    count = 0
    for run in DrillRun.objects.active().filter(deadline_at__lt=now).select_related("definition"):
        with transaction.atomic():
            reason = "abandoned: the run passed its deadline without finishing (worker stopped?)"
            if not DrillRun.objects.filter(pk=run.pk, status=run.status).update(
                status=DrillRunStatusChoices.ABANDONED, finished_at=now, reasons=[*run.reasons, reason]
            ):
                continue
            run.refresh_from_db()
            emit(
                organization=run.organization,
                type="drill.run.finished",
                payload=_payload(run),
                subject=run.definition.name,
            )
            count += 1
    return count


def _locations() -> list[DrillDefinition]:
    """One definition per distinct recovery location (connector and target block)."""
    seen, chosen = set(), []
    for definition in DrillDefinition.objects.select_related("connector").order_by("pk"):
        target = definition.document["target"]
        key = (definition.connector_id, repr(sorted(target[target["platform"]].items())))
        if key not in seen:
            seen.add(key)
            chosen.append(definition)
    return chosen


def _is_active(tag: str) -> bool:
    organization_id, _, run_id = tag.partition("-")
    if not (organization_id.isdigit() and run_id.isdigit()):
        return False
    return DrillRun.objects.active().filter(pk=int(run_id), organization_id=int(organization_id)).exists()


def _record(tag: str, ids: list[str], location: str) -> None:
    """Note the clean-up on the run it belonged to (when that run exists)."""
    organization_id, _, run_id = tag.partition("-")
    run = (
        DrillRun.objects.filter(pk=int(run_id), organization_id=int(organization_id)).first()
        if run_id.isdigit()
        else None
    )
    if run is None:
        return
    with transaction.atomic():
        now = timezone.now()
        sequence = (run.steps.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
        DrillStep.objects.create(
            organization=run.organization,
            run=run,
            sequence=sequence,
            kind=DrillStepKindChoices.JANITOR,
            status=DrillStepStatusChoices.OK,
            started_at=now,
            finished_at=now,
            detail=f"janitor destroyed {len(ids)} leftover resource(s) in {location}",
            data={"ids": ids},
        )
        payload = {**_payload(run), "resources": ids}
        emit(organization=run.organization, type="drill.resources.reaped", payload=payload, subject=run.definition.name)


def drill_janitor_sweep(*, now=None) -> JanitorReport:
    """Abandon overdue runs, then destroy every tagged resource of a run that is not active (idempotent)."""
    report = JanitorReport(abandoned=_abandon_overdue(now or timezone.now()))
    for definition in _locations():
        try:
            provisioner = _build_provisioner(definition)
            for tag, ids in provisioner.tagged().items():
                if _is_active(tag):
                    continue
                provisioner.destroy(ids)
                report.destroyed.extend(ids)
                _record(tag, ids, provisioner.location)
        except ProvisionError as exc:
            logger.warning("drill janitor: %s: %s", definition.connector.name, exc)
            report.errors.append(f"{definition.connector.name}: {exc}")
    return report
