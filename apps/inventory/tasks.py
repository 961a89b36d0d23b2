"""django-q2 entry points of the inventory: take primitive ids, load, call one service."""

from __future__ import annotations

from django.conf import settings

from qlrf.taskqueue import retry_on_lock

from .choices import ScanTriggerChoices
from .models import Connector, ScanRun
from .services import ScanInProgress, scan_execute, scan_run_now
from .services.scans import scan_scopes_sweep, scope_execute


@retry_on_lock
def connector_scan_task(scan_run_id: int) -> str:
    """Execute a queued scan (idempotent: a run that is no longer queued is left alone)."""
    run = ScanRun.objects.filter(pk=scan_run_id).first()
    if run is None:
        return "missing"
    return scan_execute(run=run, fan_out=settings.QLRF_SCAN_FAN_OUT).status


@retry_on_lock
def scan_scope_task(scan_run_id: int, scope_key: str) -> str:
    """One scope of a fanned-out scan: claimed, applied once, reported (idempotent: a duplicate finds it taken)."""
    return scope_execute(scan_run_id, scope_key)


@retry_on_lock
def scan_scopes_sweep_task() -> dict:
    """The janitor of fanned-out scans: scopes whose worker died are queued again (or failed), done runs finished."""
    return scan_scopes_sweep()


@retry_on_lock
def connector_scheduled_scan_task(connector_id: int) -> str:
    """The schedule's scan: skipped while another scan of the connector is active, or when disabled."""
    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return "disabled"
    try:
        return scan_run_now(
            actor=None, connector=connector, trigger=ScanTriggerChoices.SCHEDULE, fan_out=settings.QLRF_SCAN_FAN_OUT
        ).status
    except ScanInProgress:
        return "skipped"
