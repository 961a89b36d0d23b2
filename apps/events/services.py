"""Writing events: ``emit`` validates an envelope against contracts/events.schema.json and stores the outbox row."""

from __future__ import annotations

import json
import uuid
from functools import lru_cache

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import OutboxEvent

SCHEMA_VERSION = 1


class EventSchemaError(ValueError):
    """An event does not match its schema; ``path`` is the JSON pointer of the first fault."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.detail = message


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    with open(settings.BASE_DIR / "contracts" / "events.schema.json", encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def event_validate(envelope: dict) -> None:
    """Raise EventSchemaError for the deepest first fault of ``envelope``."""
    errors = sorted(_validator().iter_errors(envelope), key=lambda e: (-len(e.absolute_path), str(e.absolute_path)))
    if errors:
        error = errors[0]
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        raise EventSchemaError(error.message, pointer)


def emit(*, organization, type: str, payload: dict) -> OutboxEvent:  # noqa: A002 - "type" is the envelope's name
    """Validate an event and write it to the outbox inside the caller's transaction (never outside one)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit() must be called inside the transaction that writes the data it describes")
    event = OutboxEvent(
        id=uuid.uuid4(),
        organization=organization,
        type=type,
        occurred_at=timezone.now(),
        schema_version=SCHEMA_VERSION,
        payload=payload,
    )
    event_validate(json.loads(json.dumps(event.envelope(), default=str)))
    event.save(force_insert=True)
    return event
