"""django-q2 entry points of the drills: take primitive ids, load, call one service."""

from __future__ import annotations

from qlrf.taskqueue import retry_on_lock

from .choices import DrillRunTriggerChoices
from .models import DrillDefinition, DrillRun
from .services import DrillInProgress, drill_janitor_sweep, drill_run_execute, drill_run_start


@retry_on_lock
def drill_run_task(run_id: int) -> str:
    """Execute a queued run (idempotent: a run no longer queued is left alone, so a retry after a lock is safe)."""
    run = DrillRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    return drill_run_execute(run=run).status


@retry_on_lock
def drill_scheduled_task(definition_id: int) -> str:
    """The definition's schedule: one run now, skipped while another is active or when disabled."""
    definition = DrillDefinition.objects.filter(pk=definition_id, enabled=True).first()
    if definition is None:
        return "disabled"
    try:
        run = drill_run_start(actor=None, definition=definition, trigger=DrillRunTriggerChoices.SCHEDULE)
    except DrillInProgress:
        return "skipped"
    return drill_run_execute(run=run).status


@retry_on_lock
def drill_janitor_task() -> str:
    """Abandon overdue runs and destroy what inactive runs left behind."""
    report = drill_janitor_sweep()
    return f"abandoned {report.abandoned}, destroyed {len(report.destroyed)}, errors {len(report.errors)}"
