"""Publish errors and consumer lag on /metrics; the relay's and the consumer's heartbeats go stale when they stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from apps.events.heartbeat import Heartbeat, fresh
from apps.events.heartbeat import main as probe
from apps.events.models import OutboxEvent
from apps.events.services.inbound import inbound_consume
from apps.events.services.relay import relay_pass, relay_run
from apps.events.transports import TransportError, transport_get
from apps.events.transports.kafka import KafkaTransport

from .conftest import version_events
from .test_metrics import _sample

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_redis_unreachable_counts_publish_errors_by_transport_and_reason(settings, tenant_a):
    version_events(tenant_a.organization, 2)
    assert _sample(_scrape(), "qlrf_events_publish_errors_total", transport="redis", reason="connection") is None
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    transport = transport_get("redis")
    for _ in range(2):
        with pytest.raises(TransportError, match="^redis: ") as caught:
            relay_pass(transport)
        assert caught.value.reason == "connection"
    body = _scrape()
    assert _sample(body, "qlrf_events_publish_errors_total", transport="redis", reason="connection") == 2
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 2  # nothing marked, nothing lost


def test_kafka_delivery_failure_is_counted_under_librdkafka_error_name(settings, tenant_a):
    version_events(tenant_a.organization, 1)
    settings.QLRF_EVENTS_KAFKA_FLUSH_SECONDS = 10
    transport = KafkaTransport(**{"bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": 300})
    try:
        with pytest.raises(TransportError) as caught:
            relay_pass(transport)
    finally:
        transport.producer.purge()
    assert caught.value.reason == "_msg_timed_out"
    body = _scrape()
    assert _sample(body, "qlrf_events_publish_errors_total", transport="kafka", reason="_msg_timed_out") == 1
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 1


def test_consumer_lag_and_pending_per_stream_and_group(redis_bus, settings, tenant_a):
    settings.QLRF_EVENTS_TRANSPORT = "redis"
    inbound, outbound = settings.QLRF_EVENTS_INBOUND_STREAM, settings.QLRF_EVENTS_REDIS_STREAM
    for _ in range(5):
        redis_bus.xadd(inbound, {"event": "not json"})
    redis_bus.xgroup_create(inbound, "qlrf", id="0")
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="redis", stream=inbound, group="qlrf") == 5
    assert _sample(body, "qlrf_events_consumer_pending", transport="redis", stream=inbound, group="qlrf") == 0

    redis_bus.xreadgroup("qlrf", "someone", {inbound: ">"}, count=2)  # delivered, never acknowledged
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="redis", stream=inbound, group="qlrf") == 3
    assert _sample(body, "qlrf_events_consumer_pending", transport="redis", stream=inbound, group="qlrf") == 2

    assert inbound_consume(once=True)["dead"] == 3  # the real consumer drains what was never delivered
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="redis", stream=inbound, group="qlrf") == 0

    version_events(tenant_a.organization, 3)  # a downstream group on the events stream falls behind the relay
    redis_bus.xgroup_create(outbound, "downstream", id="$", mkstream=True)
    relay_pass(transport_get("redis"))
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="redis", stream=outbound, group="downstream") == 3


def test_kafka_consumer_group_lag_per_topic_and_partition(kafka_mock, settings, tenant_a, tenant_b):
    """High watermark − committed offset per partition, against librdkafka's mock cluster; a group that committed
    nothing lags by everything retained, and a commit lowers its lag by what it read."""
    from confluent_kafka import Consumer

    transport, bootstrap = kafka_mock
    version_events(tenant_a.organization, 4)
    version_events(tenant_b.organization, 3)
    assert relay_pass(transport, batch_size=10) == 7
    settings.QLRF_EVENTS_TRANSPORT = "kafka"
    settings.QLRF_EVENTS_KAFKA_BOOTSTRAP, settings.QLRF_EVENTS_KAFKA_CONFIG = bootstrap, {}  # reach the mock brokers
    settings.QLRF_EVENTS_KAFKA_LAG_GROUPS = ["downstream", "idle"]
    topic = f"{settings.QLRF_EVENTS_KAFKA_TOPIC_PREFIX}image"
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="kafka", stream=topic, group="downstream") == 7
    per_partition = {
        int(p): _sample(body, "qlrf_events_consumer_partition_lag", group="downstream", topic=topic, partition=p)
        for p in {e.position.split("/")[1] for e in OutboxEvent.objects.all()}
    }
    expected = {}
    for event in OutboxEvent.objects.all():
        partition = int(event.position.split("/")[1])
        expected[partition] = expected.get(partition, 0) + 1
    assert per_partition == expected and len(expected) >= 1

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "downstream", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})  # fmt: skip
    consumer.subscribe([topic])
    read = []
    for _ in range(60):
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            read.append(msg)
            if len(read) == 7:
                break
    committed_partition = read[0].partition()
    consumer.commit(message=read[0], asynchronous=False)  # one partition moves past its first message only
    consumer.close()
    body = _scrape()
    assert _sample(body, "qlrf_events_consumer_lag", transport="kafka", stream=topic, group="downstream") == 6
    assert (
        _sample(body, "qlrf_events_consumer_partition_lag", group="downstream", topic=topic,
                partition=str(committed_partition))
        == expected[committed_partition] - 1
    )  # fmt: skip
    assert _sample(body, "qlrf_events_consumer_lag", transport="kafka", stream=topic, group="idle") == 7
    assert _sample(body, "qlrf_events_consumer_pending", transport="kafka", stream=topic, group="downstream") is None


def test_kafka_lag_is_left_out_not_failed_when_the_cluster_is_unreachable(settings, tenant_a):
    settings.QLRF_EVENTS_TRANSPORT = "kafka"
    settings.QLRF_EVENTS_KAFKA_BOOTSTRAP, settings.QLRF_EVENTS_KAFKA_CONFIG = "127.0.0.1:1", {}
    settings.QLRF_EVENTS_KAFKA_LAG_GROUPS = ["downstream"]
    started = time.monotonic()
    body = _scrape()
    assert time.monotonic() - started < 10
    assert "qlrf_events_backlog" in body
    assert "qlrf_events_consumer_partition_lag{" not in body
    assert not [line for line in body.splitlines() if line.startswith("qlrf_events_consumer_lag{") and "kafka" in line]


def test_lag_is_left_out_not_failed_when_redis_is_unreachable(settings, tenant_a):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    body = _scrape()
    assert "qlrf_events_backlog" in body and "qlrf_events_consumer_lag{" not in body


def test_relay_heartbeat_is_fresh_while_it_loops_and_stale_once_it_stops(tmp_path, tenant_a):
    heartbeat = Heartbeat(tmp_path, "relay")
    rounds = []
    relay_run(transport_get("none"), poll=0.01, heartbeat=heartbeat, stop=lambda: rounds.append(1) or len(rounds) > 3)
    assert fresh(heartbeat.alive, 0.5) and fresh(heartbeat.ready, 0.5)
    assert probe([str(heartbeat.alive), "--max-age", "0.5"]) == 0
    time.sleep(0.8)  # the loop has stopped: nothing touches the files any more
    assert not fresh(heartbeat.alive, 0.5)
    assert probe([str(heartbeat.alive), "--max-age", "0.5"]) == 1
    assert probe([str(tmp_path / "consumer.alive"), "--max-age", "60"]) == 1  # never started: missing


def test_a_failing_transport_keeps_the_relay_alive_but_not_ready(tmp_path, settings, tenant_a):
    version_events(tenant_a.organization, 1)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.QLRF_EVENTS_RETRY_MAX_SECONDS = 0
    heartbeat = Heartbeat(tmp_path, "relay")
    rounds = []
    relay_run(transport_get("redis"), poll=0, heartbeat=heartbeat, stop=lambda: rounds.append(1) or len(rounds) > 1)
    assert fresh(heartbeat.alive, 5)
    assert not heartbeat.ready.exists()


def test_a_stopped_consumer_process_fails_its_liveness_probe(redis_bus, settings, tmp_path):
    """The real ``manage.py events_consume``: its heartbeat is fresh while it runs; SIGSTOP freezes the loop (the
    process still exists, as a hung one would) and the probe the Deployment runs fails once the file is stale."""
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "qlrf.settings.test",
        "QLRF_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "QLRF_REDIS_URL": settings.REDIS_URL,
        "QLRF_EVENTS_INBOUND_STREAM": settings.QLRF_EVENTS_INBOUND_STREAM, "QLRF_EVENTS_HEARTBEAT_DIR": str(tmp_path),
    }  # fmt: skip
    alive = tmp_path / "consumer.alive"
    check = [sys.executable, "-m", "apps.events.heartbeat", str(alive), "--max-age", "3"]
    proc = subprocess.Popen([sys.executable, "manage.py", "events_consume", "--consumer", "probe-1"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not fresh(alive, 3) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert subprocess.run(check, cwd=ROOT, check=False).returncode == 0
        assert (tmp_path / "consumer.ready").exists()
        proc.send_signal(signal.SIGSTOP)
        time.sleep(4.5)
        assert proc.poll() is None  # still there, just not looping
        assert subprocess.run(check, cwd=ROOT, check=False, capture_output=True).returncode == 1
    finally:
        proc.kill()
        proc.wait(timeout=30)
