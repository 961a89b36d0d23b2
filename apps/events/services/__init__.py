"""Writing events: ``emit`` validates a CloudEvents envelope against contracts/events.schema.json and stores the row.

The relay (``relay``), webhooks (``webhooks``), the inbound consumer (``inbound``) and replay/retention
(``replay``) live in the sibling modules of this package.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qlrf.cache_generation import generation_bump

from ..models import OutboxEvent

SCHEMA_VERSION = 1


class EventSchemaError(ValueError):
    """An event does not match its schema; ``path`` is the JSON pointer of the first fault."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.detail = message


@lru_cache(maxsize=4)
def schema_validator(name: str = "events.schema.json") -> jsonschema.Draft202012Validator:
    with open(settings.BASE_DIR / "contracts" / name, encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def schema_check(document, name: str = "events.schema.json") -> None:
    """Raise EventSchemaError for the deepest first fault of ``document`` against ``contracts/<name>``."""
    errors = sorted(
        schema_validator(name).iter_errors(document), key=lambda e: (-len(e.absolute_path), str(e.absolute_path))
    )
    if errors:
        error = errors[0]
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        raise EventSchemaError(error.message, pointer)


def event_validate(envelope: dict) -> None:
    """Raise EventSchemaError for the deepest first fault of ``envelope``."""
    schema_check(envelope)


def emit(*, organization, type: str, payload: dict, subject: str = "") -> OutboxEvent:  # noqa: A002 - CE's name
    """Validate an event and write it to the outbox inside the caller's transaction (never outside one)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit() must be called inside the transaction that writes the data it describes")
    generation_bump(organization)  # cached reads of this organisation miss from the commit on (ADR 015)
    event = OutboxEvent(
        id=uuid.uuid4(),
        organization=organization,
        type=type,
        subject=subject[:300],
        occurred_at=timezone.now(),
        schema_version=SCHEMA_VERSION,
        payload=payload,
    )
    event_validate(json.loads(json.dumps(event.envelope(), default=str)))
    event.save(force_insert=True)
    return event
