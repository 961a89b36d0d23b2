"""Scan runs: request one (queued, enqueued on commit), execute it (status, progress, counts, audit, events)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.events.services import emit
from apps.tenancy.services import audit_record, ensure_permitted_on
from qlrf.errors import DocumentRejected
from qlrf.taskqueue import task_on_commit

from ..choices import ACTIVE_SCAN_STATUSES, ScanStatusChoices, ScanTriggerChoices
from ..connectors.base import ConnectorError
from ..models import Connector, ScanRun
from .connectors import connector_build
from .sync import inventory_sync

logger = logging.getLogger(__name__)
SCAN_TASK = "apps.inventory.tasks.connector_scan_task"


class ScanInProgress(Exception):
    """Another scan of the connector is queued or running."""

    code = "scan_in_progress"


def _abandon_stale(connector: Connector) -> None:
    """A run active for longer than twice the task timeout died with its worker: mark it failed."""
    limit = timezone.now() - datetime.timedelta(seconds=2 * settings.Q_CLUSTER["timeout"])
    ScanRun.objects.filter(connector=connector, status__in=ACTIVE_SCAN_STATUSES, queued_at__lt=limit).update(
        status=ScanStatusChoices.FAILED, finished_at=timezone.now(), error="abandoned: the worker stopped responding"
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
    run.status, run.finished_at, run.error = status, timezone.now(), error[:2000]
    run.save(update_fields=["status", "finished_at", "error", "discovered", "new", "updated", "unchanged", "removed"])
    with transaction.atomic():
        counts = {name: getattr(run, name) for name in ("discovered", "new", "updated", "unchanged", "removed")}
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
    *, run: ScanRun, on_progress=None, connector_kwargs: dict | None = None, connector_impl=None
) -> ScanRun:
    """Run a queued scan to its end: succeeded, partial (some scopes failed) or failed. Never raises for bad input.

    ``connector_impl`` replaces the registry's connector instance (fleet scenarios feed recorded machines this way).
    """
    run = ScanRun.objects.select_related("connector", "organization", "requested_by").get(pk=run.pk)
    if run.status != ScanStatusChoices.QUEUED:
        return run  # already handled (a retried task is idempotent)
    run.status, run.started_at = ScanStatusChoices.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    with transaction.atomic():
        emit(
            organization=run.organization,
            type="scan.started",
            payload={"scan_run": run.pk, "connector": run.connector.name, "status": "running"},
        )
    try:
        connector = connector_impl or connector_build(run.connector, **(connector_kwargs or {}))
        totals = inventory_sync(run=run, connector=connector, on_progress=on_progress)
    except (ConnectorError, DocumentRejected) as exc:
        return _finish(run, status=ScanStatusChoices.FAILED, error=str(getattr(exc, "detail", exc)))
    except Exception as exc:
        logger.exception("scan %s failed", run.pk)
        return _finish(run, status=ScanStatusChoices.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
    for name in ("discovered", "new", "updated", "unchanged", "removed"):
        setattr(run, name, getattr(totals, name))
    failed, suspect = run.failed_scopes, run.suspect_scopes  # suspect: removals withheld by the guard (ADR 009)
    if not failed and not suspect:
        status = ScanStatusChoices.SUCCEEDED
    elif len(failed) == len(run.scopes):
        status = ScanStatusChoices.FAILED
    else:
        status = ScanStatusChoices.PARTIAL
    error = "; ".join(f"{key}: {run.scopes[key].get('error', '')}" for key in sorted([*failed, *suspect]))
    return _finish(run, status=status, error=error)


def scan_run_now(*, actor, connector: Connector, trigger: str, on_progress=None, **kwargs) -> ScanRun:
    """Create and execute a scan synchronously (the CLI and the schedule)."""
    run = scan_create(actor=actor, connector=connector, trigger=trigger)
    return scan_execute(run=run, on_progress=on_progress, **kwargs)
