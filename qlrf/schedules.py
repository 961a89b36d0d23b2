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
)


def schedules_sync() -> list[str]:
    """Create or update every recurring job by name; return the names."""
    for job in RECURRING:
        Schedule.objects.update_or_create(
            name=job.name,
            defaults={"func": job.func, "schedule_type": Schedule.MINUTES, "minutes": job.minutes, "repeats": -1},
        )
    return [job.name for job in RECURRING]
