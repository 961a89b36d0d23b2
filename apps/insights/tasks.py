"""django-q2 entry points of the insights: take primitive arguments, call one service."""

from __future__ import annotations

from qlrf.taskqueue import retry_on_lock

from .services import insights_prune


@retry_on_lock
def insights_prune_task() -> int:
    """The daily retention of stored insights (``QLRF_INSIGHTS_RETENTION_DAYS``)."""
    return insights_prune()
