"""django-q2 schedules of connectors, upserted by name (never ``schedule()`` at import time)."""

from __future__ import annotations

from django_q.models import Schedule

SCAN_TASK = "apps.inventory.tasks.connector_scheduled_scan_task"


def connector_schedule_sync(connector) -> None:
    """Create, update or delete the connector's scan schedule so it matches ``enabled`` and ``schedule_minutes``."""
    if not connector.enabled:
        Schedule.objects.filter(name=connector.schedule_name).delete()
        return
    Schedule.objects.update_or_create(
        name=connector.schedule_name,
        defaults={
            "func": SCAN_TASK,
            "args": repr((connector.pk,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": connector.schedule_minutes,
            "repeats": -1,
        },
    )
