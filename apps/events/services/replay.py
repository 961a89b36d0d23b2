"""Replay (republish stored events with their original ids, marked as replays) and retention of the outbox."""

from __future__ import annotations

import fnmatch
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import OutboxEvent
from ..transports import Transport
from .relay import outgoing

REPLAY_BATCH = 500


def replay_select(*, organization, since: datetime | None = None, until: datetime | None = None,
                  after: int | None = None, type_pattern: str = ""):  # fmt: skip
    """The stored, already published events of one organisation in [since, until), after sequence ``after``."""
    events = OutboxEvent.objects.filter(organization=organization, published_at__isnull=False)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if after is not None:
        events = events.filter(sequence__gt=after)
    events = events.select_related("organization").order_by("sequence")
    if type_pattern:
        return [event for event in events if fnmatch.fnmatchcase(event.type, type_pattern)]
    return list(events)


def events_replay(*, transport: Transport, organization, **selection) -> list[str]:
    """Republish the selected events through ``transport`` in sequence order; returns the ids sent."""
    events = replay_select(organization=organization, **selection)
    sent: list[str] = []
    for start in range(0, len(events), REPLAY_BATCH):
        batch = [outgoing(event, replay=True) for event in events[start : start + REPLAY_BATCH]]
        if transport.slug == "webhook":
            from .webhooks import deliveries_queue

            for event in events[start : start + REPLAY_BATCH]:
                deliveries_queue(event, replay=True)
        else:
            transport.publish(batch)
        sent.extend(item.id for item in batch)
    return sent


def events_prune(*, now: datetime | None = None) -> int:
    """Delete published events older than QLRF_EVENTS_RETENTION_DAYS; an unpublished event is never deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.QLRF_EVENTS_RETENTION_DAYS)
    old = OutboxEvent.objects.filter(published_at__isnull=False, occurred_at__lt=cutoff)
    return old.delete()[0]
