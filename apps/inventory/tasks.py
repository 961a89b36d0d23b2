"""django-q2 entry points of the inventory: take primitive ids, load, call one service."""

from __future__ import annotations

from qlrf.taskqueue import retry_on_lock

from .choices import ScanTriggerChoices
from .models import Connector, ScanRun
from .services import ScanInProgress, scan_execute, scan_run_now


@retry_on_lock
def connector_scan_task(scan_run_id: int) -> str:
    """Execute a queued scan (idempotent: a run that is no longer queued is left alone)."""
    run = ScanRun.objects.filter(pk=scan_run_id).first()
    if run is None:
        return "missing"
    return scan_execute(run=run).status


@retry_on_lock
def connector_scheduled_scan_task(connector_id: int) -> str:
    """The schedule's scan: skipped while another scan of the connector is active, or when disabled."""
    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return "disabled"
    try:
        return scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.SCHEDULE).status
    except ScanInProgress:
        return "skipped"
