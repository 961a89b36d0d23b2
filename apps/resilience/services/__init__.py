"""Writes of the resilience app: definitions, run requests, the drill runner and the janitor."""

from .definitions import drill_definition_save, drill_schedule_sync
from .janitor import drill_janitor_sweep
from .runs import DrillInProgress, drill_run_execute, drill_run_request, drill_run_start

__all__ = [
    "DrillInProgress",
    "drill_definition_save",
    "drill_janitor_sweep",
    "drill_run_execute",
    "drill_run_request",
    "drill_run_start",
    "drill_schedule_sync",
]
