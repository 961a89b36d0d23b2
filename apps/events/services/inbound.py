"""The inbound consumer's logic: validate a platform event, apply it through the services, or dead-letter it.

``inbound_handle`` is transport-free (the Redis Streams loop in ``inbound_consume`` feeds it). The processed id is
recorded in the same transaction as the change, so a redelivered event changes nothing. An event that is not JSON,
fails its schema, names an unknown organisation or is refused by the service goes straight to the dead letters with
the reason; an unexpected failure is retried by redelivery and dead-lettered after QLRF_EVENTS_INBOUND_MAX_ATTEMPTS.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from qlrf.errors import DocumentRejected

from ..models import DeadLetter, InboundProcessed
from . import EventSchemaError, schema_check

log = logging.getLogger(__name__)
INBOUND_SCHEMA = "inbound-events.schema.json"


class Rejected(Exception):
    """A permanent fault of the event itself: retrying cannot help."""


def _parse(raw: bytes | str) -> dict:
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    try:
        schema_check(document, INBOUND_SCHEMA)
    except EventSchemaError as exc:
        raise Rejected(f"schema: {exc}") from None
    return document


def _apply_build_completed(organization, event: dict) -> str:
    from apps.images.services import image_version_register

    data = event["data"]
    version, created = image_version_register(
        actor=None,
        organization=organization,
        contract=data["contract"],
        version=data["version"],
        parent=data.get("parent"),
        artifacts=[dict(a) for a in data.get("artifacts", [])],
    )
    return f"{'registered' if created else 'already had'} {version} ({version.status})"


HANDLERS = {"image.build.completed": _apply_build_completed}


def dead_letter(raw: bytes | str, reason: str, *, event_id: str = "", attempts: int = 1) -> DeadLetter:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return DeadLetter.objects.create(event_id=event_id[:200], raw=text, reason=reason[:1000], attempts=attempts)


def inbound_handle(raw: bytes | str, *, attempts: int = 1) -> str:
    """Apply one inbound event; returns "applied", "duplicate" or "dead". Raises on a retryable failure."""
    event_id = ""
    try:
        event = _parse(raw)
        event_id = event["id"]
        organization = Organization.objects.filter(slug=event["organization"]).first()
        if organization is None:
            raise Rejected(f"unknown organization {event['organization']!r}")
        with transaction.atomic():
            try:
                InboundProcessed.objects.create(id=event_id, type=event["type"])
            except IntegrityError:
                return "duplicate"
            try:
                with transaction.atomic():
                    outcome = HANDLERS[event["type"]](organization, event)
            except (DocumentRejected, ValidationError, PermissionDenied, ValueError) as exc:
                raise Rejected(f"refused: {exc}") from None
        log.info("inbound %s %s: %s", event["type"], event_id, outcome)
        return "applied"
    except Rejected as exc:
        dead_letter(raw, str(exc), event_id=event_id, attempts=attempts)
        return "dead"
    except Exception as exc:
        if attempts >= settings.QLRF_EVENTS_INBOUND_MAX_ATTEMPTS:
            dead_letter(raw, f"failed {attempts} times; last: {type(exc).__name__}: {exc}", event_id=event_id,
                        attempts=attempts)  # fmt: skip
            return "dead"
        raise


def dead_letter_redrive(*, letter: DeadLetter) -> str:
    """Feed a dead letter through the consumer again (after a fix); a new dead letter is recorded if it fails again."""
    if letter.redriven_at is not None:
        return f"already redriven: {letter.redrive_outcome}"
    outcome = inbound_handle(letter.raw, attempts=1)
    letter.redriven_at = timezone.now()
    letter.redrive_outcome = outcome
    letter.save(update_fields=["redriven_at", "redrive_outcome"])
    return outcome


def inbound_consume(*, once: bool = False, group: str = "qlrf", consumer: str = "consumer-1", block_ms: int = 1000,
                    count: int = 50, heartbeat=None, stop=None) -> dict[str, int]:  # fmt: skip
    """Read the inbound stream with a consumer group; ack each entry only after it is applied or dead-lettered.

    ``heartbeat`` (``apps.events.heartbeat.Heartbeat``) is beaten every round, ready when Redis answered; a lost
    Redis connection ends a ``once`` run and makes the long-running consumer wait and reconnect."""
    import redis as redis_lib

    from ..transports.redis import stream_client

    client = stream_client()
    stream = settings.QLRF_EVENTS_INBOUND_STREAM
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis_lib.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    counts = {"applied": 0, "duplicate": 0, "dead": 0, "retry": 0}
    while True:
        if stop is not None and stop():
            return counts
        try:
            # This consumer's own unacknowledged entries first (a crash, a retryable failure), then new ones.
            entries = client.xreadgroup(group, consumer, {stream: "0"}, count=count)
            backlog = entries and entries[0][1]
            if not backlog:
                entries = client.xreadgroup(group, consumer, {stream: ">"}, count=count,
                                            block=None if once else block_ms)  # fmt: skip
        except redis_lib.ConnectionError as exc:
            if once:
                raise
            if heartbeat is not None:
                heartbeat.beat(ready=False)
            log.warning("inbound: %s; retrying in %s s", exc, settings.QLRF_EVENTS_RETRY_MAX_SECONDS // 6 or 1)
            time.sleep(settings.QLRF_EVENTS_RETRY_MAX_SECONDS // 6 or 1)
            continue
        if heartbeat is not None:
            heartbeat.beat(ready=True)
        handled = 0
        for _name, messages in entries or []:
            for entry_id, fields in messages:
                handled += 1
                pending = client.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
                attempts = pending[0]["times_delivered"] if pending else 1
                try:
                    outcome = inbound_handle(fields.get(b"event", b""), attempts=attempts)
                except Exception as exc:  # noqa: BLE001 - left unacknowledged: redelivered next round
                    log.warning("inbound %s: attempt %s failed: %s", entry_id, attempts, exc)
                    counts["retry"] += 1
                    continue
                counts[outcome] += 1
                client.xack(stream, group, entry_id)
        if once and not handled:
            return counts
