"""The outbox relay: publish pending events per organisation, in order, at least once, with a per-org sequence.

One pass takes an organisation's ``EventStream`` row with ``SELECT … FOR UPDATE SKIP LOCKED`` (so several relays on
PostgreSQL each own different tenants at a time and never publish the same rows concurrently), reads up to
``batch_size`` of its unpublished events in the order they became visible (commit order, then time), gives them the
next sequence numbers, publishes them through the transport and marks them published with their position, all in
that one transaction. A relay killed after publishing but before committing leaves the rows pending: the next pass
publishes them again with the same ids (and the same sequence numbers), which consumers deduplicate. SQLite has no
row locks: run one relay there.

The hot path is plain SQL on a raw cursor (one statement each to lock the stream, read the batch, store the
positions and advance the sequence) and hands the transport each payload as the JSON text the database holds: model
instances, the ORM's query building and a parse/serialise round trip per event cost more than publishing it
(docs/adr/014-event-bus.md, "Relay throughput").
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring_ascii as quote

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.models import Organization

from ..encoding import structured_join
from ..heartbeat import Heartbeat
from ..models import CE_DATA_SCHEMA, CE_SOURCE, EventStream, OutboxEvent, envelope_attributes
from ..transports import Outgoing, Transport, TransportError

log = logging.getLogger(__name__)

OUTBOX = OutboxEvent._meta.db_table
STREAMS = EventStream._meta.db_table
ORGANIZATIONS = Organization._meta.db_table
RELAY_CHUNK = 1000  # events per database round trip; the redis transport sends them in pipelines of 500


def outgoing(event: OutboxEvent, *, replay: bool = False) -> Outgoing:
    """An Outgoing from a model instance (replay, the SQLite relay): the SDK's structured bytes of its envelope."""
    attributes = envelope_attributes(
        id=str(event.id), organization=event.organization.slug, type=event.type, occurred_at=event.occurred_at,
        schema_version=event.schema_version, subject=event.subject, sequence=event.sequence, replay=replay,
    )  # fmt: skip
    return Outgoing(
        id=str(event.id), organization=event.organization.slug, type=event.type,
        body=structured_join(attributes, json.dumps(event.payload)), replay=replay,
    )  # fmt: skip


def _streams_ensure() -> None:
    pending = OutboxEvent.objects.filter(published_at__isnull=True).values_list("organization_id", flat=True)
    missing = set(pending.distinct()) - set(EventStream.objects.values_list("organization_id", flat=True))
    if missing:
        EventStream.objects.bulk_create(
            [EventStream(organization_id=org) for org in sorted(missing)], ignore_conflicts=True
        )


def _stream_lock(cursor, skip: set[int]) -> tuple | None:
    """Lock the first stream (by id) with pending events and not in ``skip``: (id, organisation id, sequence, slug)."""
    params: list = list(skip)
    excluded = f"AND s.organization_id NOT IN ({', '.join(['%s'] * len(skip))})" if skip else ""
    lock = "FOR UPDATE OF s SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    cursor.execute(
        f"SELECT s.id, s.organization_id, s.last_sequence, t.slug FROM {STREAMS} s "  # noqa: S608 - our table names
        f"JOIN {ORGANIZATIONS} t ON t.id = s.organization_id "
        f"WHERE EXISTS (SELECT 1 FROM {OUTBOX} o WHERE o.organization_id = s.organization_id "
        f"AND o.published_at IS NULL) {excluded} ORDER BY s.id LIMIT 1 {lock}",
        params,
    )
    return cursor.fetchone()


def _iso(occurred_at) -> str:
    """The envelope's ``time`` of a datetime: ``isoformat`` with ``Z`` (``envelope_attributes``' own)."""
    return occurred_at.isoformat().replace("+00:00", "Z")


# PostgreSQL writes the envelope's ``time`` itself (to_char, UTC, microseconds; Python drops ".000000", see
# _time_text): parsing a timestamptz into a datetime and formatting it again cost more per event than the rest of
# the document.
_PG_TIME = "to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"


def _time_text(text: str) -> str:
    """``isoformat`` of the UTC time PostgreSQL formatted with microseconds (``_PG_TIME``), with ``Z``."""
    return f"{text[:-7]}Z" if text.endswith(".000000") else f"{text}Z"


def _heads(slug: str):
    """A function (id, type, time text, schema version, subject) → the structured-mode document of an event up to,
    not including, its sequence: ``json.dumps(envelope_attributes(...))`` without the closing brace, written out so
    a batch costs one format per event (tests/events/test_encoding.py holds the two equal for every attribute).
    Strings are quoted by ``encode_basestring_ascii``, what ``json.dumps`` of a string calls, without its overhead."""
    prefix = '{"specversion": "1.0", "id": "'
    middle = f'", "source": {quote(f"{CE_SOURCE}/{slug}")}, "type": '
    tail = f'", "datacontenttype": "application/json", "dataschema": {quote(CE_DATA_SCHEMA)}, "organization": '
    tail += f'{quote(slug)}, "schemaversion": '
    types: dict[str, str] = {}

    def head(event_id: str, type_: str, time_: str, schema_version: int, subject: str) -> str:
        quoted = types.get(type_) or types.setdefault(type_, quote(type_))
        text = f'{prefix}{event_id}{middle}{quoted}, "time": "{time_}{tail}{schema_version}'
        return f'{text}, "subject": {quote(subject)}' if subject else text

    return head


def _pending_rows(cursor, organization_id: int, slug: str, limit: int, after: tuple | None = None,
                  mark: tuple = ("", [])) -> list[tuple]:  # fmt: skip
    """(id, type, document head, payload JSON text, keyset) of the next pending events of one organisation, in order;
    ``after`` is the keyset of the last row already read in this transaction. On PostgreSQL ``mark`` is a
    data-modifying statement and its parameters (the previous chunk's positions) to run in the same round trip, as a
    ``WITH`` clause: the read's snapshot does not see it, and needs not, for the keyset is past that chunk."""
    head = _heads(slug)
    if connection.vendor != "postgresql":  # SQLite keeps UUIDs as hex and times as text: let the ORM convert
        events = OutboxEvent.objects.filter(organization_id=organization_id, published_at__isnull=True)
        if after is not None:
            events = events.filter(Q(occurred_at__gt=after[0]) | Q(occurred_at=after[0], id__gt=after[1]))
        fields = ("id", "type", "occurred_at", "schema_version", "subject", "payload")
        return [
            (str(pk), type_, head(str(pk), type_, _iso(at), version, subject), json.dumps(payload), (at, pk))
            for pk, type_, at, version, subject, payload in events.order_by("occurred_at", "id").values_list(*fields)[
                :limit
            ]
        ]
    keyset = "AND (o.occurred_at, o.id) > (%s::timestamptz, %s::uuid)" if after is not None else ""
    sql = (
        f"SELECT o.id::text, o.type, o.occurred_at::text, {_PG_TIME}, o.schema_version, o.subject, "  # noqa: S608
        "o.payload::text "
        f"FROM {OUTBOX} o WHERE o.organization_id = %s AND o.published_at IS NULL {keyset} "
        "ORDER BY o.occurred_at, o.id LIMIT %s"  # o.id: the column, not the text the select list calls "id"
    )
    if mark[0]:
        sql = f"WITH marked AS ({mark[0]}) {sql}"
    cursor.execute(sql, [*mark[1], organization_id, *(after or ()), limit])
    return [
        (event_id, type_, head(event_id, type_, _time_text(time_), version, subject), payload, (at, event_id))
        for event_id, type_, at, time_, version, subject, payload in cursor.fetchall()
    ]


def _array_literal(values: list[str]) -> str:
    """A PostgreSQL array literal of strings (one text parameter instead of an adapted list: cheaper per row)."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _mark_statement(ids: list[str], first_sequence: int, positions: list[str], now, slug: str) -> tuple[str, list]:
    """The PostgreSQL statement storing sequence, position and publication time of a chunk: one ``UPDATE … FROM
    unnest(arrays) WITH ORDINALITY`` (Django's ``bulk_update`` builds a ``CASE WHEN`` per field and row, which took
    ~85 % of the relay's time), the arrays passed as literals (cheaper to send than adapted lists)."""
    sql = (
        f"UPDATE {OUTBOX} AS o SET sequence = %s + v.n - 1, position = v.pos, published_at = %s, transport = %s "  # noqa: S608
        "FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS v(id, pos, n) WHERE o.id = v.id"
    )
    return sql, [first_sequence, now, slug, _array_literal(ids), _array_literal(positions)]


def _mark_and_read(cursor, mark: tuple | None, slug: str, *, organization_id: int, limit: int, after,
                   transport: str) -> list[tuple]:  # fmt: skip
    """Store the positions of the chunk ``mark`` = (ids, first sequence, positions) and read the next ``limit``
    pending events after ``after``: one round trip on PostgreSQL, two statements elsewhere."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        if mark is not None:
            ids, first, positions = mark
            rows = [
                OutboxEvent(id=uuid.UUID(i), sequence=first + n, position=p, published_at=now, transport=transport)
                for n, (i, p) in enumerate(zip(ids, positions, strict=True))
            ]
            OutboxEvent.objects.bulk_update(rows, ["sequence", "position", "published_at", "transport"])
        return _pending_rows(cursor, organization_id, slug, limit, after) if limit else []
    statement = _mark_statement(*mark, now, transport) if mark is not None else ("", [])
    if limit:
        return _pending_rows(cursor, organization_id, slug, limit, after, mark=statement)
    if mark is not None:
        cursor.execute(*statement)
    return []


def _session_tune(cursor) -> None:
    """PostgreSQL settings for this transaction only (``SET LOCAL``), each safe for at-least-once publishing.

    ``synchronous_commit off``: the relay's commit only records progress (sequence, position, published_at). If the
    server crashes before that commit reaches disk, the batch is lost as a whole, with its sequence counter, and is
    republished with the same ids and sequence numbers: at-least-once already covers it, so the relay need not wait
    for a WAL flush per batch. Writers keep the server's setting; their events are durable before the relay sees them.
    ``enable_hashjoin off``: the positions UPDATE joins a batch of ids to the outbox; on a small table the planner
    hashes the whole outbox for it instead of probing the primary key per row.
    """
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT set_config('synchronous_commit', 'off', true), set_config('enable_hashjoin', 'off', true), "
            "set_config('enable_mergejoin', 'off', true)"
        )


def _outgoing_rows(rows: list[tuple], slug: str, first_sequence: int) -> list[Outgoing]:
    return [
        Outgoing(event_id, slug, type_, f'{head}, "sequence": {sequence}, "data": {data}}}'.encode())
        for sequence, (event_id, type_, head, data, _key) in enumerate(rows, first_sequence)
    ]


class _Publisher:
    """Publishes chunks in order on one background thread, so the database work of one chunk overlaps the
    transport's round trips for the next. A chunk never starts after an earlier one failed: the stream never holds a
    later chunk without the earlier one (order per organisation). Transports that write to the database (webhook)
    publish inline, inside the relay's transaction."""

    _executor: tuple[int, ThreadPoolExecutor] | None = None  # (pid, executor): a forked child starts its own

    def __init__(self, transport: Transport):
        self.transport, self.failed = transport, False
        if transport.publish_in_thread and (_Publisher._executor is None or _Publisher._executor[0] != os.getpid()):
            _Publisher._executor = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-publish"))

    def _publish(self, batch: list[Outgoing]) -> list[str]:
        if self.failed:
            raise TransportError("not attempted: an earlier chunk of this batch failed")
        try:
            return self.transport.publish(batch)
        except BaseException:
            self.failed = True
            raise

    def submit(self, batch: list[Outgoing]) -> Future:
        if self.transport.publish_in_thread:
            return _Publisher._executor[1].submit(self._publish, batch)
        future: Future = Future()
        try:
            future.set_result(self._publish(batch))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def relay_batch(transport: Transport, *, batch_size: int, skip: set[int]) -> tuple[int | None, int]:
    """Publish up to ``batch_size`` events of one organisation in one transaction; returns (organisation id or None
    when nothing to do, count). The events are read, published and marked in chunks of RELAY_CHUNK, pipelined: chunk
    N+1 goes out while chunk N's positions are stored. If the transport fails, the chunks already acknowledged are
    committed as published and the error is raised; the rest stay pending."""
    error: Exception | None = None
    with transaction.atomic(), connection.cursor() as cursor:
        _session_tune(cursor)
        stream = _stream_lock(cursor, skip)
        if stream is None:
            return None, 0
        stream_id, organization_id, last_sequence, slug = stream
        publisher, chunk = _Publisher(transport), min(batch_size, RELAY_CHUNK)
        rows = _pending_rows(cursor, organization_id, slug, chunk)
        sequence, read, done, inflight = last_sequence, len(rows), 0, None
        while True:
            upcoming = None
            if rows and not publisher.failed:  # chunk N+1 goes out (after chunk N, on the publishing thread) …
                upcoming = (publisher.submit(_outgoing_rows(rows, slug, sequence + 1)), rows, sequence + 1)
                sequence += len(rows)
            mark = None
            if inflight is not None:  # … while chunk N's positions are stored and chunk N+2 is read
                future, sent, first = inflight
                try:
                    positions = future.result()
                except TransportError as exc:
                    error = error or exc
                else:
                    if error is None:
                        mark = ([row[0] for row in sent], first, [p[:200] for p in positions])
                        done += len(sent)
            limit = min(chunk, batch_size - read) if upcoming is not None and error is None else 0
            after = rows[-1][4] if rows else None
            rows = _mark_and_read(cursor, mark, slug, organization_id=organization_id, limit=limit, after=after,
                                  transport=transport.slug)  # fmt: skip
            read += len(rows)
            if upcoming is None:
                break
            inflight = upcoming
        if done:
            cursor.execute(f"UPDATE {STREAMS} SET last_sequence = %s WHERE id = %s", [last_sequence + done, stream_id])  # noqa: S608
    if error is not None:
        from .monitoring import publish_error_record

        publish_error_record(transport=transport.slug, reason=getattr(error, "reason", "other"), detail=str(error))
        raise error
    return organization_id, done


def relay_pass(transport: Transport, *, batch_size: int | None = None, heartbeat: Heartbeat | None = None) -> int:
    """Publish everything pending now (every organisation, batch by batch); returns how many events went out.
    ``heartbeat`` is beaten after every batch, so catching up on a long backlog never looks like a hung relay."""
    batch_size = batch_size or settings.QLRF_EVENTS_BATCH_SIZE
    _streams_ensure()
    total, done = 0, set()
    while True:
        organization, count = relay_batch(transport, batch_size=batch_size, skip=done)
        if heartbeat is not None:
            heartbeat.beat(ready=True)
        if organization is None:
            break
        total += count
        if count < batch_size:
            done.add(organization)  # drained for this pass; newer events wait for the next one
    if transport.slug == "webhook":
        from .webhooks import webhook_deliver_due

        webhook_deliver_due()
    return total


def relay_run(transport: Transport, *, once: bool = False, poll: float | None = None, stop=None,
              heartbeat: Heartbeat | None = None) -> int:  # fmt: skip
    """The long-running relay: a pass, a pause of ``poll`` seconds when idle, again; ``once`` stops after one pass.

    A transport failure ends a ``once`` run (the CLI exits non-zero); the long-running relay counts it (the publish
    error metric), waits with backoff (up to QLRF_EVENTS_RETRY_MAX_SECONDS) and tries again, beating its liveness
    heartbeat every round and its readiness one only after a pass that published without error."""
    poll = settings.QLRF_EVENTS_POLL_SECONDS if poll is None else poll
    total, failures = 0, 0
    while True:
        try:
            published = relay_pass(transport, heartbeat=heartbeat)
        except TransportError as exc:
            if once:
                raise
            failures += 1
            if heartbeat is not None:
                heartbeat.beat(ready=False)
            backoff = min(max(poll, 1.0) * 2 ** (failures - 1), settings.QLRF_EVENTS_RETRY_MAX_SECONDS)
            wait = backoff * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto
            log.warning("relay: %s; retrying in %.1f s", exc, wait)
            if stop is not None and stop():
                return total
            time.sleep(wait)
            continue
        failures = 0
        if heartbeat is not None:
            heartbeat.beat(ready=True)
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
