"""The outbox relay: publish pending events per organisation, in order, at least once, with a per-org sequence.

One pass takes an organisation's ``EventStream`` row with ``SELECT … FOR UPDATE SKIP LOCKED`` (so several relays on
PostgreSQL each own different tenants at a time and never publish the same rows concurrently), reads up to
``batch_size`` of its unpublished events in the order they became visible (commit order, then time), gives them the
next sequence numbers, publishes them through the transport and marks them published with their position, all in
that one transaction. A relay killed after publishing but before committing leaves the rows pending: the next pass
publishes them again with the same ids (and the same sequence numbers), which consumers deduplicate. SQLite has no
row locks: run one relay there.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import EventStream, OutboxEvent
from ..transports import Outgoing, Transport

log = logging.getLogger(__name__)


def outgoing(event: OutboxEvent, *, replay: bool = False) -> Outgoing:
    return Outgoing(
        id=str(event.id),
        organization=event.organization.slug,
        type=event.type,
        envelope=event.envelope(replay=replay),
        replay=replay,
    )


def _streams_ensure() -> None:
    pending = OutboxEvent.objects.filter(published_at__isnull=True).values_list("organization_id", flat=True)
    missing = set(pending.distinct()) - set(EventStream.objects.values_list("organization_id", flat=True))
    if missing:
        EventStream.objects.bulk_create(
            [EventStream(organization_id=org) for org in sorted(missing)], ignore_conflicts=True
        )


def _mark_published(events: list[OutboxEvent], now, slug: str) -> None:
    """Store sequence, position and publication time of a batch in one statement.

    On PostgreSQL one ``UPDATE … FROM unnest(arrays)``: Django's ``bulk_update`` builds a ``CASE WHEN`` per field
    and row, and building that expression took ~85 % of the relay's time (docs/performance.md, events relay).
    """
    if connection.vendor != "postgresql":
        OutboxEvent.objects.bulk_update(events, ["sequence", "position", "published_at", "transport"])
        return
    table = OutboxEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS o SET sequence = v.seq, position = v.pos, published_at = %s, transport = %s '  # noqa: S608 - the model's own table name
            "FROM unnest(%s::uuid[], %s::bigint[], %s::text[]) AS v(id, seq, pos) WHERE o.id = v.id",
            [now, slug, [e.id for e in events], [e.sequence for e in events], [e.position for e in events]],
        )


def relay_batch(transport: Transport, *, batch_size: int, skip: set[int]) -> tuple[int | None, int]:
    """Publish one batch of one organisation's events; returns (organisation id or None when nothing to do, count)."""
    with transaction.atomic():
        pending_orgs = OutboxEvent.objects.filter(published_at__isnull=True).values("organization_id")
        stream = (
            EventStream.objects.select_for_update(skip_locked=True)
            .filter(organization_id__in=pending_orgs)
            .exclude(organization_id__in=skip)
            .order_by("pk")
            .first()
        )
        if stream is None:
            return None, 0
        events = list(
            OutboxEvent.objects.filter(organization_id=stream.organization_id, published_at__isnull=True)
            .select_related("organization")
            .order_by("occurred_at", "id")[:batch_size]
        )
        sequence = stream.last_sequence
        for event in events:
            sequence += 1
            event.sequence = sequence
        positions = transport.publish([outgoing(event) for event in events])
        now = timezone.now()
        for event, position in zip(events, positions, strict=True):
            event.position, event.published_at, event.transport = position[:200], now, transport.slug
        _mark_published(events, now, transport.slug)
        stream.last_sequence = sequence
        stream.save(update_fields=["last_sequence"])
        return stream.organization_id, len(events)


def relay_pass(transport: Transport, *, batch_size: int | None = None) -> int:
    """Publish everything pending now (every organisation, batch by batch); returns how many events went out."""
    batch_size = batch_size or settings.QLRF_EVENTS_BATCH_SIZE
    _streams_ensure()
    total, done = 0, set()
    while True:
        organization, count = relay_batch(transport, batch_size=batch_size, skip=done)
        if organization is None:
            break
        total += count
        if count < batch_size:
            done.add(organization)  # drained for this pass; newer events wait for the next one
    if transport.slug == "webhook":
        from .webhooks import webhook_deliver_due

        webhook_deliver_due()
    return total


def relay_run(transport: Transport, *, once: bool = False, poll: float | None = None, stop=None) -> int:
    """The long-running relay: a pass, a pause of ``poll`` seconds when idle, again; ``once`` stops after one pass."""
    poll = settings.QLRF_EVENTS_POLL_SECONDS if poll is None else poll
    total = 0
    while True:
        published = relay_pass(transport)
        total += published
        if published:
            log.info("relay: published %s event(s) via %s", published, transport.slug)
        if once or (stop is not None and stop()):
            return total
        if not published:
            time.sleep(poll)


def backlog() -> dict:
    """Unpublished events and the age in seconds of the oldest one (monitoring, the CLI's status line)."""
    pending = OutboxEvent.objects.filter(published_at__isnull=True)
    oldest = pending.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    return {
        "pending": pending.count(),
        "oldest_age_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }
