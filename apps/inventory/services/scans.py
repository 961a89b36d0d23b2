"""Scan runs: request one (queued, enqueued on commit), execute it (status, progress, counts, audit, events).

A run is split into one scope row per connector scope (``ScanScope``). Executing the run lists images, applies the
artifact rules and creates the rows; then either one task per scope is queued (``fan_out``: N workers scan N scopes at
once) or every scope runs here, one after another. Either way a scope is claimed by a conditional UPDATE (pending, or
running with an expired lease), applied in one transaction that also marks it done — fenced by its attempt number —
and reported; the report that finds every scope done finishes the run, exactly once (a conditional status UPDATE).
A worker killed mid-scope rolls its transaction back; the sweeper puts the scope back to pending once its lease has
expired (and no live transaction holds its row) and queues it again, up to ``QLRF_SCAN_SCOPE_MAX_ATTEMPTS`` tries.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.events.services import emit
from apps.tenancy.services import audit_record, ensure_permitted_on
from qlrf.errors import DocumentRejected
from qlrf.taskqueue import task_on_commit

from ..choices import ACTIVE_SCAN_STATUSES, ScanStatusChoices, ScanTriggerChoices
from ..connectors.base import BaseConnector, ConnectorError
from ..models import Connector, ScanRun, ScanScope
from .connectors import connector_build
from .sync import Counts, scope_sync, sync_after, sync_prepare, sync_state

logger = logging.getLogger(__name__)
SCAN_TASK = "apps.inventory.tasks.connector_scan_task"
SCOPE_TASK = "apps.inventory.tasks.scan_scope_task"
PENDING, RUNNING = "pending", "running"
TERMINAL_SCOPE_STATUSES = ("succeeded", "failed", "suspect")
COUNT_FIELDS = ("discovered", "new", "updated", "unchanged", "removed")


class ScanInProgress(Exception):
    """Another scan of the connector is queued or running."""

    code = "scan_in_progress"


def _abandon_stale(connector: Connector) -> None:
    """A run that shows no life for twice the task timeout died with its worker: mark it failed.

    Queued runs and runs without scope rows (the coordinator died before fanning out) count from ``queued_at``; a
    fanned-out run is alive while any scope row was claimed, leased or finished within the limit (the sweeper retries
    or fails its lost scopes and finishes it).
    """
    limit = timezone.now() - datetime.timedelta(seconds=2 * settings.Q_CLUSTER["timeout"])
    active = Q(scope_rows__lease_until__gte=limit) | Q(scope_rows__finished_at__gte=limit)
    active |= Q(scope_rows__enqueued_at__gte=limit) | Q(scope_rows__started_at__gte=limit)
    stale = ScanRun.objects.filter(connector=connector, status__in=ACTIVE_SCAN_STATUSES, queued_at__lt=limit)
    stale_ids = list(stale.exclude(pk__in=ScanRun.objects.filter(active).values("pk")).values_list("pk", flat=True))
    if stale_ids:
        ScanRun.objects.filter(pk__in=stale_ids, status__in=ACTIVE_SCAN_STATUSES).update(
            status=ScanStatusChoices.FAILED,
            finished_at=timezone.now(),
            error="abandoned: the worker stopped responding",
        )


def scan_create(*, actor, connector: Connector, trigger: str) -> ScanRun:
    """Create a queued run; refuse while another run of the connector is active (one scan per connector)."""
    ensure_permitted_on(actor, connector, "scan")
    _abandon_stale(connector)
    try:
        with transaction.atomic():
            return ScanRun.objects.create(
                organization=connector.organization,
                connector=connector,
                trigger=trigger,
                requested_by=actor if actor is not None and actor.pk else None,
            )
    except IntegrityError:
        raise ScanInProgress(f"a scan of {connector.name} is already queued or running") from None


@transaction.atomic
def scan_request(*, actor, connector: Connector, trigger: str = ScanTriggerChoices.MANUAL) -> ScanRun:
    """Queue a scan and enqueue its task once the transaction commits."""
    from django_q.tasks import async_task

    run = scan_create(actor=actor, connector=connector, trigger=trigger)
    transaction.on_commit(lambda: async_task(SCAN_TASK, run.pk, task_name=f"scan-{run.pk}"))
    return run


def _finish(run: ScanRun, *, status: str, error: str = "") -> ScanRun:
    """Move the run from running to its final status, once: the conditional UPDATE lets one caller win; the winner
    records the audit event, the outbox event and the after-scan work in the same transaction."""
    run.status, run.finished_at, run.error = status, timezone.now(), error[:2000]
    counts = {name: getattr(run, name) for name in COUNT_FIELDS}
    with transaction.atomic():
        won = ScanRun.objects.filter(pk=run.pk, status=ScanStatusChoices.RUNNING).update(
            status=status, finished_at=run.finished_at, error=run.error, scopes=run.scopes, **counts
        )
        if not won:  # another worker finished it first
            run.refresh_from_db()
            return run
        audit_record(
            organization=run.organization,
            actor=run.requested_by,
            action="inventory.scanrun.finish",
            obj=run,
            after={"status": status, "counts": counts, "failed_scopes": run.failed_scopes, "error": run.error},
        )
        emit(
            organization=run.organization,
            type="scan.finished",
            payload={
                "scan_run": run.pk,
                "connector": run.connector.name,
                "status": status,
                "counts": counts,
                "failed_scopes": run.failed_scopes,
            },
        )
        if status in (ScanStatusChoices.SUCCEEDED, ScanStatusChoices.PARTIAL):
            _enqueue_after_scan(run)
    return run


def _enqueue_after_scan(run: ScanRun) -> None:
    """Run ``settings.QLRF_AFTER_SCAN_TASKS`` (drift snapshot, signature re-check…) once the run is committed:
    queued when a django-q2 cluster runs, in-process otherwise (``qlrf.taskqueue``, ADR 010).

    They are named, not imported: the inventory knows nothing of the apps that react to a scan.
    """
    organization_id, run_id = run.organization_id, run.pk
    for name in settings.QLRF_AFTER_SCAN_TASKS:
        task_on_commit(name, organization_id, run_id, task_name=f"{name.rsplit('.', 1)[-1]}-{run_id}")


def scan_execute(
    *, run: ScanRun, on_progress=None, connector_kwargs: dict | None = None, connector_impl=None, fan_out: bool = False
) -> ScanRun:
    """Run a queued scan: succeeded, partial (some scopes failed) or failed. Never raises for bad input.

    With ``fan_out`` one task per scope is queued and the run is returned still running (the last scope to report
    finishes it); otherwise every scope runs here and the finished run is returned. ``connector_impl`` replaces the
    registry's connector instance (fleet scenarios feed recorded machines this way) and implies running here.
    """
    run = ScanRun.objects.select_related("connector", "organization", "requested_by").get(pk=run.pk)
    if run.status != ScanStatusChoices.QUEUED:
        return run  # already handled (a retried task is idempotent)
    started = timezone.now()
    if not ScanRun.objects.filter(pk=run.pk, status=ScanStatusChoices.QUEUED).update(
        status=ScanStatusChoices.RUNNING, started_at=started
    ):
        return ScanRun.objects.get(pk=run.pk)  # another worker took it
    run.status, run.started_at = ScanStatusChoices.RUNNING, started
    with transaction.atomic():
        emit(
            organization=run.organization,
            type="scan.started",
            payload={"scan_run": run.pk, "connector": run.connector.name, "status": "running"},
        )
    try:
        connector = connector_impl or connector_build(run.connector, **(connector_kwargs or {}))
        if fan_out and connector_impl is None and on_progress is None and not connector_kwargs:
            scopes_create(run, sync_prepare(run=run, connector=connector))
            if not run.scopes:
                return run_report(run.pk) or run
            scopes_enqueue(run, list(run.scopes))
            return run
        scan_scopes_inline(run=run, connector=connector, on_progress=on_progress)
    except (ConnectorError, DocumentRejected) as exc:
        return _finish(run, status=ScanStatusChoices.FAILED, error=str(getattr(exc, "detail", exc)))
    except Exception as exc:
        logger.exception("scan %s failed", run.pk)
        return _finish(run, status=ScanStatusChoices.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
    return ScanRun.objects.select_related("connector", "organization").get(pk=run.pk)


def scan_run_now(*, actor, connector: Connector, trigger: str, on_progress=None, **kwargs) -> ScanRun:
    """Create and execute a scan (the CLI in this process; the schedule fans out with ``fan_out=True``)."""
    run = scan_create(actor=actor, connector=connector, trigger=trigger)
    return scan_execute(run=run, on_progress=on_progress, **kwargs)


# --- scopes: create, claim, apply, report, sweep -------------------------------------------------------------------


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def lease_seconds() -> int:
    """How long a claim holds a scope without a live transaction on its row.

    PostgreSQL: a worker applying a scope holds its row lock, which the sweeper skips, so the lease only covers the
    moment between claim and apply. Elsewhere (SQLite: no row locks) the lease alone must outlast any live task.
    """
    seconds = settings.QLRF_SCAN_SCOPE_LEASE_SECONDS
    if connection.vendor != "postgresql":
        seconds = max(seconds, settings.Q_CLUSTER["timeout"] + 60)
    return seconds


def _display(row: ScanScope) -> dict:
    """The run's ``scopes`` entry for a row (what the portal, the API and the CLI show)."""
    shown = {"status": row.status, "discovered": row.discovered, **row.details}
    if row.attempts > 1:
        shown["attempts"] = row.attempts
    return shown


def scopes_create(run: ScanRun, scopes) -> None:
    """One pending row per scope, and the run's ``scopes`` shown as pending."""
    keys = list(dict.fromkeys(scope.key for scope in scopes))
    ScanScope.objects.bulk_create(
        ScanScope(organization_id=run.organization_id, run_id=run.pk, key=key, position=n) for n, key in enumerate(keys)
    )
    run.scopes = {key: {"status": PENDING, "discovered": 0} for key in keys}
    ScanRun.objects.filter(pk=run.pk).update(scopes=run.scopes)


def scopes_enqueue(run: ScanRun, keys: list[str]) -> None:
    """Queue one task per scope (a duplicate is harmless: the claim lets one through)."""
    from django_q.tasks import async_task

    ScanScope.objects.filter(run_id=run.pk, key__in=keys).update(enqueued_at=timezone.now())
    for key in keys:
        async_task(SCOPE_TASK, run.pk, key, task_name=f"scan-{run.pk}-scope")


def _abandon(row: ScanScope) -> bool:
    """Fail a scope whose attempts are used up (each one's worker died); True when this call did it."""
    reason = f"abandoned after {row.attempts} attempts: the worker stopped responding"
    return bool(
        ScanScope.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
            status="failed", lease_until=None, finished_at=timezone.now(), details={"error": reason}
        )
    )


def scope_claim(run_id: int, key: str) -> ScanScope | None:
    """Claim a scope: pending, or running with an expired lease and no live transaction on its row.

    ``UPDATE … WHERE status/attempts are as read`` lets exactly one claimer through (on every database);
    ``SKIP LOCKED`` (PostgreSQL) passes over a row a live worker is applying. ``None``: nothing to do here.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            ScanScope.objects.select_for_update(skip_locked=True)
            .filter(run_id=run_id, key=key)
            .filter(Q(status=PENDING) | Q(status=RUNNING, lease_until__lt=now))
            .first()
        )
        if row is None or not ScanRun.objects.filter(pk=run_id, status=ScanStatusChoices.RUNNING).exists():
            return None
        if row.status == RUNNING and row.attempts >= settings.QLRF_SCAN_SCOPE_MAX_ATTEMPTS:
            _abandon(row)
            return None
        claimed = ScanScope.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
            status=RUNNING,
            attempts=row.attempts + 1,
            lease_until=now + datetime.timedelta(seconds=lease_seconds()),
            worker=worker_id(),
            started_at=now,
        )
    if not claimed:
        return None
    row.status, row.attempts, row.worker = RUNNING, row.attempts + 1, worker_id()
    return row


class _Superseded(Exception):
    """The claim is no longer current (the sweeper gave the scope to another worker): undo this attempt."""


def scope_apply(row: ScanScope, state, connector: BaseConnector, scope) -> bool:
    """Sync the claimed scope and mark it done in one transaction, fenced by the claim's attempt number."""
    fence = {"pk": row.pk, "status": RUNNING, "attempts": row.attempts}
    try:
        with transaction.atomic():
            if ScanScope.objects.select_for_update().filter(**fence).first() is None:  # holds the row (PostgreSQL)
                return False
            info: dict = {}
            counts = scope_sync(state, connector, scope, info) if scope is not None else Counts()
            if scope is None:
                info.update(status="failed", error="the connector no longer lists this scope")
            status = info.pop("status", "failed")
            done = ScanScope.objects.filter(**fence).update(
                status=status,
                lease_until=None,
                finished_at=timezone.now(),
                details=info,
                **{name: getattr(counts, name) for name in COUNT_FIELDS},
            )
            if done != 1:
                raise _Superseded
    except _Superseded:
        logger.warning(
            "scope %s of scan %s was given to another worker: attempt %s undone", row.key, row.run_id, row.attempts
        )
        return False
    return True


def run_report(run_id: int) -> ScanRun | None:
    """Show the scope rows on the run; when every scope is done, finish the run (once). Returns the run if finished."""
    with transaction.atomic():
        # NO KEY: scope transactions in flight hold KEY SHARE on the run (their assets' last_scan): never wait on them
        run = (
            ScanRun.objects.select_for_update(no_key=True, of=("self",))
            .select_related("connector", "organization")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            return None
        rows = list(ScanScope.objects.filter(run_id=run_id))
        run.scopes = {row.key: _display(row) for row in sorted(rows, key=lambda r: r.position)}
        ScanRun.objects.filter(pk=run_id).update(scopes=run.scopes)
    if run.status != ScanStatusChoices.RUNNING or any(r.status not in TERMINAL_SCOPE_STATUSES for r in rows):
        return None
    return scan_finalise(run, rows)


def scan_finalise(run: ScanRun, rows: list[ScanScope]) -> ScanRun:
    """Totals from the scope rows, sites for the regions reported, then the final status (as a one-task scan had)."""
    for name in COUNT_FIELDS:
        setattr(run, name, sum(getattr(row, name) for row in rows))
    try:
        sync_after(run)
    except Exception as exc:
        logger.exception("scan %s: the after-sync step failed", run.pk)
        return _finish(run, status=ScanStatusChoices.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
    failed, suspect = run.failed_scopes, run.suspect_scopes  # suspect: removals withheld by the guard (ADR 009)
    if not failed and not suspect:
        status = ScanStatusChoices.SUCCEEDED
    elif len(failed) == len(run.scopes):
        status = ScanStatusChoices.FAILED
    else:
        status = ScanStatusChoices.PARTIAL
    error = "; ".join(f"{key}: {run.scopes[key].get('error', '')}" for key in sorted([*failed, *suspect]))
    return _finish(run, status=status, error=error)


def _scope_of(connector: BaseConnector, key: str):
    return next((scope for scope in connector.scopes() if scope.key == key), None)


def scope_execute(run_id: int, key: str) -> str:
    """One scope's task: claim, apply, report, then sweep the run's lost scopes. Idempotent; returns what it did."""
    row = scope_claim(run_id, key)
    if row is None:
        outcome = "skipped"
    else:
        run = ScanRun.objects.select_related("connector", "organization").get(pk=run_id)
        try:
            connector = connector_build(run.connector)
            scope = _scope_of(connector, key)
        except ConnectorError as exc:  # a credential gone since the run started: this scope fails, readably
            connector, scope = None, None
            ScanScope.objects.filter(pk=row.pk, status=RUNNING, attempts=row.attempts).update(
                status="failed", lease_until=None, finished_at=timezone.now(), details={"error": str(exc)[:500]}
            )
        if connector is not None:
            scope_apply(row, sync_state(run), connector, scope)
        outcome = ScanScope.objects.filter(pk=row.pk).values_list("status", flat=True).first() or "missing"
    run_report(run_id)
    scan_scopes_sweep(run_id=run_id)
    return outcome


def scan_scopes_inline(*, run: ScanRun, connector: BaseConnector, on_progress=None, finalise: bool = True) -> Counts:
    """Every scope of the run in this process, one after another, through the same claim/apply/report path."""
    scopes = sync_prepare(run=run, connector=connector)
    scopes_create(run, scopes)
    state = sync_state(run, on_progress=on_progress)
    totals = Counts()
    for scope in {scope.key: scope for scope in scopes}.values():
        row = scope_claim(run.pk, scope.key)
        if row is not None:
            scope_apply(row, state, connector, scope)
        if finalise:
            run_report(run.pk)
        else:  # the caller finishes the run itself: show the rows only
            _show_rows(run)
        done = ScanScope.objects.filter(run_id=run.pk, key=scope.key).first()
        if done is not None:
            totals.add(Counts(**{name: getattr(done, name) for name in COUNT_FIELDS}))
        run.scopes = ScanRun.objects.values_list("scopes", flat=True).get(pk=run.pk)
        if on_progress:
            on_progress(run)
    if not scopes and finalise:
        run_report(run.pk)
    if not finalise:
        sync_after(run)
    return totals


def _show_rows(run: ScanRun) -> None:
    rows = ScanScope.objects.filter(run_id=run.pk).order_by("position")
    run.scopes = {row.key: _display(row) for row in rows}
    ScanRun.objects.filter(pk=run.pk).update(scopes=run.scopes)


def scan_scopes_sweep(*, run_id: int | None = None) -> dict:
    """The janitor of fanned-out scans (a schedule every minute, and the end of every scope task).

    A running scope whose lease expired and whose row no live transaction holds lost its worker: back to pending and
    queued again, or failed once ``QLRF_SCAN_SCOPE_MAX_ATTEMPTS`` are used up. A pending scope queued longer ago
    than a lease may have lost its message (a killed cluster's prefetch): queued again. A run whose scopes are all
    done but which was not finished (its last worker died between the two) is finished.
    """
    now = timezone.now()
    rows = ScanScope.objects.filter(run__status=ScanStatusChoices.RUNNING)
    if run_id is not None:
        rows = rows.filter(run_id=run_id)
    requeue: dict[int, list[str]] = {}
    failed_runs: set[int] = set()
    for pk in rows.filter(status=RUNNING, lease_until__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            row = (
                ScanScope.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=RUNNING, lease_until__lt=now)
                .first()
            )
            if row is None:
                continue  # applied by a live worker right now, or already handled
            if row.attempts >= settings.QLRF_SCAN_SCOPE_MAX_ATTEMPTS:
                if _abandon(row):
                    failed_runs.add(row.run_id)
            elif ScanScope.objects.filter(pk=pk, status=RUNNING, attempts=row.attempts).update(
                status=PENDING, lease_until=None, enqueued_at=now
            ):
                logger.warning(
                    "scope %s of scan %s lost its worker (%s): queued again", row.key, row.run_id, row.worker
                )
                requeue.setdefault(row.run_id, []).append(row.key)
    # a cluster prefetches messages: one killed with its pod takes them along (Redis has no acknowledgement). A pending
    # scope queued a lease ago is queued again; a duplicate of a message still waiting is harmless (the claim).
    lost_before = now - datetime.timedelta(seconds=lease_seconds())
    for run_pk, key in rows.filter(status=PENDING, enqueued_at__lt=lost_before).values_list("run_id", "key"):
        requeue.setdefault(run_pk, []).append(key)
    for run_pk, keys in requeue.items():
        scopes_enqueue(ScanRun(pk=run_pk), keys)
    unfinished = rows.exclude(status__in=TERMINAL_SCOPE_STATUSES).values("run_id")
    done_runs = set(rows.exclude(run_id__in=unfinished).values_list("run_id", flat=True))
    for run_pk in failed_runs | done_runs:
        run_report(run_pk)
    return {
        "requeued": sum(len(keys) for keys in requeue.values()),
        "failed": len(failed_runs),
        "finished": len(done_runs),
    }
