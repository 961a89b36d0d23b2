"""CloudEvents encodings of an outbox envelope, through the ``cloudevents`` SDK (structured JSON, Kafka binary).

The relay's hot path writes structured mode with ``structured_join``: the SDK's own layout (the attributes in order,
then ``data``, ``json.dumps`` separators) joined around the data's JSON text as the outbox stores it, so a batch is not
parsed and re-serialised per event. tests/events/test_encoding.py holds it byte for byte to the SDK's ``structured``.
"""

from __future__ import annotations

import json
from datetime import datetime

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

_FORMAT = JSONFormat()


def cloudevent(envelope: dict) -> CloudEvent:
    """The SDK's CloudEvent for one of our envelopes (``OutboxEvent.envelope()``)."""
    attributes = {key: value for key, value in envelope.items() if key != "data"}
    attributes["time"] = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
    for key in ("schemaversion", "sequence"):
        if key in attributes:
            attributes[key] = int(attributes[key])
    return CloudEvent(attributes=attributes, data=envelope["data"])


def structured(envelope: dict) -> bytes:
    """Structured mode: the whole event as one ``application/cloudevents+json`` document."""
    return ce_http.to_structured_event(cloudevent(envelope), _FORMAT).body


def structured_join(attributes: dict, data_json: str) -> bytes:
    """Structured mode from the attributes and the data's JSON text: the SDK's bytes when ``data_json`` is
    ``json.dumps(data)``, the same document when it is another JSON text of the same value (PostgreSQL's jsonb text)."""
    head = json.dumps(attributes)
    return f'{head[:-1]}, "data": {data_json}}}'.encode()


def structured_headers() -> dict[str, str]:
    return {"content-type": _FORMAT.get_content_type()}


def kafka_binary(envelope: dict) -> ce_kafka.KafkaMessage:
    """Kafka binary mode: attributes as ``ce_*`` headers, the data as the value, the organisation as the key."""
    return ce_kafka.to_binary_event(cloudevent(envelope), _FORMAT, key_mapper=lambda e: e.get_extension("organization"))


def parse_structured(body: bytes) -> CloudEvent:
    """Read a structured-mode event (raises the SDK's errors on a malformed one)."""
    return _FORMAT.read(None, body)
