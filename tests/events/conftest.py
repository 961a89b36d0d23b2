"""Event-bus fixtures: the real Redis (db 7) with a stream name of the test's own, and events to publish."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.db import transaction

from apps.events.services import emit
from apps.events.transports.kafka import KafkaTransport

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_bus(settings):
    """Point the relay and the consumer at the real Redis with streams unique to this test; removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"the event-bus tests need the Redis server at {REDIS_URL}")
    tag = uuid.uuid4().hex[:12]
    settings.REDIS_URL = REDIS_URL
    settings.QLRF_EVENTS_REDIS_STREAM = f"test:events:{tag}"
    settings.QLRF_EVENTS_INBOUND_STREAM = f"test:inbound:{tag}"
    yield client
    client.delete(settings.QLRF_EVENTS_REDIS_STREAM, settings.QLRF_EVENTS_INBOUND_STREAM)
    client.close()


@pytest.fixture
def kafka_mock(settings):
    """librdkafka's in-process mock cluster (speaks the Kafka protocol); consumers reach it via its brokers."""
    settings.QLRF_EVENTS_KAFKA_CONFIG = {"test.mock.num.brokers": "3"}
    settings.QLRF_EVENTS_KAFKA_TOPIC_PREFIX = f"t{uuid.uuid4().hex[:8]}."
    settings.QLRF_EVENTS_KAFKA_FLUSH_SECONDS = 10
    transport = KafkaTransport()
    brokers = transport.producer.list_topics(timeout=10).brokers.values()
    yield transport, ",".join(f"{b.host}:{b.port}" for b in brokers)
    transport.close()


def version_events(organization, count: int, *, start: int = 0) -> list:
    """``count`` image.version.published events of ``organization``, each in its own transaction."""
    events = []
    for n in range(start, start + count):
        with transaction.atomic():
            events.append(
                emit(
                    organization=organization,
                    type="image.version.published",
                    payload={"family": "ubuntu-22.04", "version": f"2026.1.{n}", "status": "published"},
                    subject=f"ubuntu-22.04@2026.1.{n}",
                )
            )
    return events


def stream_entries(client, stream: str) -> list[tuple[str, dict]]:
    return [
        (entry_id.decode(), {k.decode(): v.decode() for k, v in fields.items()})
        for entry_id, fields in client.xrange(stream)
    ]
