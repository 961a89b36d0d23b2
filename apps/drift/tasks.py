"""django-q2 entry points of drift."""

from __future__ import annotations

from apps.inventory.models import ScanRun
from apps.tenancy.models import Organization
from qlrf.taskqueue import retry_on_lock

from .choices import SnapshotTriggerChoices
from .services import drift_snapshot_write, drift_snapshots_expire


@retry_on_lock
def drift_snapshot_task(
    organization_id: int, trigger: str = SnapshotTriggerChoices.SCAN, scan_run_id: int | None = None
) -> int | None:
    """Write one snapshot of an organisation (after a scan)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    run = ScanRun.objects.filter(pk=scan_run_id).first() if scan_run_id else None
    return drift_snapshot_write(organization=organization, trigger=trigger, scan_run=run).pk


@retry_on_lock
def drift_after_scan_task(organization_id: int, scan_run_id: int | None = None) -> int | None:
    """After a scan that refreshed data: snapshot the organisation's drift."""
    return drift_snapshot_task(organization_id, SnapshotTriggerChoices.SCAN, scan_run_id)


@retry_on_lock
def drift_daily_snapshots_task() -> int:
    """The daily snapshot of every organisation, then retention."""
    count = 0
    for organization in Organization.objects.all():
        drift_snapshot_write(organization=organization, trigger=SnapshotTriggerChoices.DAILY)
        count += 1
    drift_snapshots_expire()
    return count
