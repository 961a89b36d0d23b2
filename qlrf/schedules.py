"""The installation's recurring jobs, upserted by name into django-q2 (never ``schedule()`` at import time).

Per-connector scan schedules are managed by the inventory services; these are the global ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    minutes: int


RECURRING = (
    Recurring("drift-daily-snapshots", "apps.drift.tasks.drift_daily_snapshots_task", 24 * 60),
    Recurring("images-apply-scheduled-revocations", "apps.images.tasks.image_revocations_apply_task", 15),
    Recurring("compliance-upload-originals-sweep", "apps.compliance.tasks.upload_originals_sweep_task", 60),
    Recurring("compliance-upload-jobs-resume", "apps.compliance.tasks.upload_jobs_resume_task", 10),
    Recurring("resilience-drill-janitor", "apps.resilience.tasks.drill_janitor_task", 10),
    Recurring("inventory-scan-scopes-sweep", "apps.inventory.tasks.scan_scopes_sweep_task", 1),
    Recurring("insights-prune", "apps.insights.tasks.insights_prune_task", 24 * 60),
)


def schedule_put(
    name: str, func: str, *, enabled: bool = True, args: tuple = (), minutes: int | None = None, cron: str | None = None
) -> None:
    """The one way a schedule is written: upserted by name (django-q2's ``schedule()`` raises on a duplicate name),
    every ``minutes`` or on a ``cron`` expression, repeating forever; ``enabled=False`` removes it."""
    if not enabled:
        Schedule.objects.filter(name=name).delete()
        return
    timing = (
        {"schedule_type": Schedule.CRON, "cron": cron}
        if cron
        else {"schedule_type": Schedule.MINUTES, "minutes": minutes}
    )
    Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "args": repr(tuple(args)) if args else None, "repeats": -1, **timing}
    )


def schedules_sync() -> list[str]:
    """Create or update every recurring job by name; return the names."""
    for job in RECURRING:
        schedule_put(job.name, job.func, minutes=job.minutes)
    return [job.name for job in RECURRING]
