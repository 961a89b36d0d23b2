"""The relay publishes the outbox per organisation, in order, with a sequence, to Redis Streams and Kafka."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.events.encoding import parse_structured
from apps.events.models import OutboxEvent
from apps.events.services.relay import backlog, relay_pass
from apps.events.transports import TransportError, transport_get
from apps.events.transports.kafka import KafkaTransport
from apps.images.services import image_version_register
from qlrf.cli import main as rf
from tests.events.conftest import stream_entries, version_events

pytestmark = pytest.mark.django_db(transaction=True)


def test_relay_publishes_every_event_in_order_with_a_sequence_per_organisation(redis_bus, settings, tenant_a,
                                                                              tenant_b):  # fmt: skip
    a = version_events(tenant_a.organization, 7)
    b = version_events(tenant_b.organization, 3)
    transport = transport_get("redis")
    assert relay_pass(transport, batch_size=3) == 10
    assert backlog() == {"pending": 0, "oldest_age_seconds": 0.0}
    entries = stream_entries(redis_bus, settings.QLRF_EVENTS_REDIS_STREAM)
    assert len(entries) == 10
    by_org = {"alpha": [], "bravo": []}
    for entry_id, fields in entries:
        event = parse_structured(fields["event"].encode())
        assert event.get_id() == fields["id"]
        assert event.get_extension("organization") == fields["organization"]
        by_org[fields["organization"]].append((event.get_extension("sequence"), fields["id"], entry_id))
    assert [(seq, i) for seq, i, _ in by_org["alpha"]] == [(n + 1, str(e.pk)) for n, e in enumerate(a)]
    assert [(seq, i) for seq, i, _ in by_org["bravo"]] == [(n + 1, str(e.pk)) for n, e in enumerate(b)]
    stored = {str(e.pk): (e.sequence, e.position, e.transport) for e in OutboxEvent.objects.all()}
    for seq, event_id, entry_id in by_org["alpha"] + by_org["bravo"]:
        assert stored[event_id] == (seq, f"{settings.QLRF_EVENTS_REDIS_STREAM}/{entry_id}", "redis")
    # a second pass has nothing to do and publishes nothing again
    assert relay_pass(transport) == 0
    assert redis_bus.xlen(settings.QLRF_EVENTS_REDIS_STREAM) == 10


def test_the_envelope_a_consumer_reads_is_the_stored_cloudevent(redis_bus, settings, tenant_a, ubuntu_contract):
    version, _ = image_version_register(actor=None, organization=tenant_a.organization, contract=ubuntu_contract,
                                        version="2026.2.0")  # fmt: skip
    assert rf(["events", "relay", "--once", "--transport", "redis"]) == 0
    (_, fields), *_ = stream_entries(redis_bus, settings.QLRF_EVENTS_REDIS_STREAM)
    stored = OutboxEvent.objects.get(pk=fields["id"])
    body = json.loads(fields["event"])
    assert body == {**stored.envelope(), "sequence": 1}
    assert (body["type"], body["data"]["version"], body["source"]) == ("image.version.registered", "2026.2.0",
                                                                       "/qlrf/alpha")  # fmt: skip


def test_redis_down_leaves_every_event_pending_and_says_so_in_one_line(settings, tenant_a, capsys):
    version_events(tenant_a.organization, 2)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert rf(["events", "relay", "--once", "--transport", "redis"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rf: error: redis:") and "\n" not in err
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 2
    assert OutboxEvent.objects.exclude(sequence=None).count() == 0


def test_unknown_transport_is_refused(tenant_a):
    with pytest.raises(CommandError, match="unknown event transport 'carrier-pigeon'"):
        call_command("events_relay", "--once", "--transport", "carrier-pigeon")


def test_none_transport_sequences_events_for_the_pull_api(tenant_a):
    version_events(tenant_a.organization, 2)
    call_command("events_relay", "--once", "--transport", "none")
    assert list(OutboxEvent.objects.order_by("sequence").values_list("sequence", "transport", "position")) == [
        (1, "none", ""),
        (2, "none", ""),
    ]


def test_kafka_idempotent_producer_publishes_with_id_header_and_org_key(kafka_mock, settings, tenant_a, tenant_b):
    from confluent_kafka import Consumer

    transport, bootstrap = kafka_mock  # the mock cluster creates topics on first produce (it has no controller)
    events = version_events(tenant_a.organization, 4) + version_events(tenant_b.organization, 2)
    assert relay_pass(transport, batch_size=10) == 6
    topic = f"{settings.QLRF_EVENTS_KAFKA_TOPIC_PREFIX}image"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "t", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen = {}
    for _ in range(60):
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            headers = dict(msg.headers())
            seen[headers["ce_id"].decode()] = (msg.key().decode(), headers, msg.partition(), msg.offset(),
                                               json.loads(msg.value()))  # fmt: skip
        if len(seen) == 6:
            break
    consumer.close()
    assert set(seen) == {str(e.pk) for e in events}
    for event in OutboxEvent.objects.select_related("organization"):
        key, headers, partition, offset, value = seen[str(event.pk)]
        assert key == event.organization.slug
        assert headers["ce_type"] == b"image.version.published" and headers["ce_organization"] == key.encode()
        assert headers["ce_sequence"] == str(event.sequence).encode()
        assert value == event.payload
        assert event.position == f"{topic}/{partition}/{offset}"
    assert transport.producer.list_topics(topic).topics[topic].error is None


def test_kafka_unreachable_raises_and_publishes_nothing(settings, tenant_a):
    settings.QLRF_EVENTS_KAFKA_BOOTSTRAP = "127.0.0.1:1"
    settings.QLRF_EVENTS_KAFKA_CONFIG = {"message.timeout.ms": "1500"}
    settings.QLRF_EVENTS_KAFKA_FLUSH_SECONDS = 3
    version_events(tenant_a.organization, 1)
    transport = KafkaTransport()
    with pytest.raises(TransportError, match="kafka"):
        relay_pass(transport)
    assert OutboxEvent.objects.get().published_at is None


@pytest.mark.django_db(transaction=True)
def test_every_event_of_a_whole_demo_load_is_published_and_verifiable_by_a_consumer(redis_bus, settings):
    """Issue #12, "Done when": the writes of the whole product (the demo: images, promotions, scans, signatures,
    drift, assets…) leave nothing pending once the relay ran with Redis, and a consumer reading the stream can verify
    each entry: a CloudEvent whose id, type and data are the stored row's, each id once, sequences without gaps."""
    from qlrf.demo import demo_load

    demo_load()
    stored = {str(e.pk): e for e in OutboxEvent.objects.select_related("organization")}
    assert len(stored) > 50 and len({e.type for e in stored.values()}) > 5
    assert rf(["events", "relay", "--once", "--transport", "redis"]) == 0
    assert backlog() == {"pending": 0, "oldest_age_seconds": 0.0}
    entries = stream_entries(redis_bus, settings.QLRF_EVENTS_REDIS_STREAM)
    assert sorted(fields["id"] for _entry, fields in entries) == sorted(stored)
    sequences: dict[str, list[int]] = {}
    for entry_id, fields in entries:
        event = parse_structured(fields["event"].encode())
        row = stored[event.get_id()]
        assert (fields["id"], event.get_type(), event.get_data()) == (str(row.pk), row.type, row.payload)
        assert json.loads(fields["event"]) == {**row.envelope(), "sequence": event.get_extension("sequence")}
        assert OutboxEvent.objects.get(pk=row.pk).position == f"{settings.QLRF_EVENTS_REDIS_STREAM}/{entry_id}"
        sequences.setdefault(row.organization.slug, []).append(event.get_extension("sequence"))
    for numbers in sequences.values():
        assert numbers == list(range(1, len(numbers) + 1))  # per organisation, in stream order
