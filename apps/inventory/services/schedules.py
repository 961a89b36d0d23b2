"""django-q2 schedules of connectors, upserted by name (never ``schedule()`` at import time)."""

from __future__ import annotations

from qlrf.schedules import schedule_put

SCAN_TASK = "apps.inventory.tasks.connector_scheduled_scan_task"


def connector_schedule_sync(connector) -> None:
    """Create, update or delete the connector's scan schedule so it matches ``enabled`` and ``schedule_minutes``."""
    schedule_put(
        connector.schedule_name,
        SCAN_TASK,
        enabled=connector.enabled,
        args=(connector.pk,),
        minutes=connector.schedule_minutes,
    )
