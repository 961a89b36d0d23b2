"""The relay's structured-mode bytes are the cloudevents SDK's, built without the SDK per event (ADR 014)."""

import datetime
import json
import uuid

import pytest

from apps.events.encoding import parse_structured, structured, structured_join
from apps.events.models import OutboxEvent, envelope_attributes
from apps.events.services.relay import _heads, _iso, _pending_rows, outgoing, relay_pass
from apps.events.transports import transport_get

from .conftest import version_events

UTC = datetime.UTC
SUBJECTS = ["", "ubuntu-22.04@2026.1.0", 'quote " backslash \\ tab \t nl \n ctl \x01 slash /', "Zürich 東京 😀"]
TIMES = [
    datetime.datetime(2026, 12, 4, 5, 38, 4, 123456, tzinfo=UTC),
    datetime.datetime(2026, 1, 31, 0, 0, 0, tzinfo=UTC),  # no microseconds: isoformat writes none
    datetime.datetime(2026, 6, 1, 12, 0, 0, 120000, tzinfo=UTC),  # trailing zeros kept, as isoformat does
]
DATA = {"family": "ubuntu-22.04", "n": 1.5, "ok": True, "none": None, "list": [1, "é", {"k": "v"}]}


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("occurred_at", TIMES)
def test_heads_and_join_give_the_sdk_bytes(subject, occurred_at):
    event_id = str(uuid.uuid4())
    attributes = envelope_attributes(
        id=event_id, organization="acme", type="image.version.published", occurred_at=occurred_at,
        schema_version=1, subject=subject, sequence=42,
    )  # fmt: skip
    sdk = structured({**attributes, "data": DATA})
    assert structured_join(attributes, json.dumps(DATA)) == sdk
    head = _heads("acme")(event_id, "image.version.published", _iso(occurred_at), 1, subject)
    assert f'{head}, "sequence": 42, "data": {json.dumps(DATA)}}}'.encode() == sdk


def test_replay_flag_and_model_outgoing_are_the_sdk_bytes(tenant_a):
    (event,) = version_events(tenant_a.organization, 1)
    event.sequence = 7
    assert outgoing(event).body == structured({**event.envelope(), "sequence": 7})
    replayed = outgoing(event, replay=True)
    assert replayed.body == structured(event.envelope(replay=True))
    assert parse_structured(replayed.body).get_extension("replay") is True


@pytest.mark.django_db(transaction=True)
def test_rows_the_relay_reads_encode_to_the_stored_envelope(tenant_a):
    """Whatever the database hands back (PostgreSQL's jsonb text, SQLite's text), the document is the envelope."""
    from django.db import connection, transaction

    events = version_events(tenant_a.organization, 3)
    OutboxEvent.objects.filter(pk=events[1].pk).update(subject='Zürich "q"', payload={"x": "東京", "y": [1.25, None]})
    for event, occurred_at in zip(events, TIMES, strict=True):  # whole seconds, trailing zeros: the text as isoformat
        OutboxEvent.objects.filter(pk=event.pk).update(occurred_at=occurred_at)
    events = [event for _time, event in sorted(zip(TIMES, events, strict=True), key=lambda pair: pair[0])]
    with transaction.atomic(), connection.cursor() as cursor:
        rows = _pending_rows(cursor, tenant_a.organization.pk, "alpha", 10)
        after_first = _pending_rows(cursor, tenant_a.organization.pk, "alpha", 10, rows[0][4])
    assert [row[0] for row in rows] == [str(e.pk) for e in events]
    assert [row[0] for row in after_first] == [str(e.pk) for e in events[1:]]  # keyset paging
    for n, (event_id, _type, head, data, _key) in enumerate(rows, 1):
        document = json.loads(f'{head}, "sequence": {n}, "data": {data}}}')
        assert document == {**OutboxEvent.objects.get(pk=event_id).envelope(), "sequence": n}
    relay_pass(transport_get("none"))
    assert list(OutboxEvent.objects.order_by("sequence").values_list("id", "sequence")) == [
        (e.pk, n) for n, e in enumerate(events, 1)
    ]
