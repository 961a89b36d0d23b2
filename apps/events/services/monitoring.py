"""What /metrics reads about the event bus beyond the outbox rows: publish errors and consumer lag.

Publish errors are counted in the database (``PublishErrorCount``): every relay process adds to the same rows and
any web process exports them, and the count survives the outage it describes (a Redis that is down cannot hold the
count of its own failures). Consumer lag is read from the streams at scrape time (``XINFO GROUPS``): entries not yet
delivered to each consumer group, and entries delivered but not acknowledged, per stream. With the ``kafka``
transport, the lag of each group in QLRF_EVENTS_KAFKA_LAG_GROUPS is read per topic-partition of the per-family topics:
the high watermark minus the group's committed offset (minus the low watermark when the group committed nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import PublishErrorCount

log = logging.getLogger(__name__)


def publish_error_record(*, transport: str, reason: str, detail: str = "") -> None:
    """Add one failed publication to the (transport, reason) counter, in its own transaction."""
    values = {"count": F("count") + 1, "last_at": timezone.now(), "last_error": detail[:500]}
    for _ in range(2):
        if PublishErrorCount.objects.filter(transport=transport, reason=reason).update(**values):
            return
        try:
            with transaction.atomic():
                PublishErrorCount.objects.create(transport=transport, reason=reason, count=1,
                                                 last_error=detail[:500])  # fmt: skip
            return
        except IntegrityError:  # another relay created it first: add to it
            continue


@dataclass(frozen=True)
class GroupLag:
    transport: str
    stream: str
    group: str
    lag: int | None  # entries not yet delivered to the group (None: Redis cannot tell, e.g. after a deletion)
    pending: int | None  # delivered, not acknowledged (None: Kafka has no such count)


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    lag: int


def consumer_lag(kafka: list[PartitionLag] | None = None) -> list[GroupLag]:
    """Every consumer group of the inbound stream and of the outbound events stream (when the relay publishes to
    Redis), with its lag, and the Kafka groups' lag per topic (``kafka``: their lag per partition, when already
    read); an unreachable Redis or Kafka yields nothing (and a warning), never a failed scrape."""
    lags = _redis_lag() if settings.REDIS_URL else []
    totals: dict[tuple[str, str], int] = {}
    for item in kafka_partition_lag() if kafka is None else kafka:
        totals[(item.topic, item.group)] = totals.get((item.topic, item.group), 0) + item.lag
    lags.extend(GroupLag("kafka", topic, group, lag, None) for (topic, group), lag in sorted(totals.items()))
    return lags


def kafka_partition_lag() -> list[PartitionLag]:
    """Lag per (group, topic, partition) of the groups in QLRF_EVENTS_KAFKA_LAG_GROUPS on our per-family topics, when
    the relay publishes to Kafka; an unreachable cluster yields nothing (and a warning), within a few seconds."""
    if settings.QLRF_EVENTS_TRANSPORT != "kafka" or not settings.QLRF_EVENTS_KAFKA_LAG_GROUPS:
        return []
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    from ..transports.kafka import FAMILIES, kafka_config, topic_for

    wanted = {topic_for(family) for family in FAMILIES}
    lags = []
    for group in dict.fromkeys(settings.QLRF_EVENTS_KAFKA_LAG_GROUPS):
        consumer = Consumer(kafka_config(**{"group.id": group, "enable.auto.commit": False,
                                            "socket.timeout.ms": 2000}))  # fmt: skip
        try:
            metadata = consumer.list_topics(timeout=2)
            partitions = [
                TopicPartition(name, number)
                for name, topic in sorted(metadata.topics.items())
                if name in wanted and topic.error is None
                for number in sorted(topic.partitions)
            ]
            committed = consumer.committed(partitions, timeout=2) if partitions else []
            for tp in committed:
                low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=2)
                lags.append(PartitionLag(group, tp.topic, tp.partition, max(high - (tp.offset if tp.offset >= 0
                                                                                   else low), 0)))  # fmt: skip
        except KafkaException as exc:
            log.warning("kafka consumer lag of %s unavailable: %s", group, exc)
        finally:
            consumer.close()
    return lags


def _redis_lag() -> list[GroupLag]:
    import redis as redis_lib
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    streams = [settings.QLRF_EVENTS_INBOUND_STREAM]
    if settings.QLRF_EVENTS_TRANSPORT == "redis":
        streams.append(settings.QLRF_EVENTS_REDIS_STREAM)
    # One try, two seconds at most: a scrape must answer even when Redis hangs (redis-py would retry three times).
    client = redis_lib.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2,
                                      retry=Retry(NoBackoff(), 0))  # fmt: skip
    lags = []
    try:
        for stream in dict.fromkeys(streams):
            try:
                groups = client.xinfo_groups(stream)
            except redis_lib.ResponseError:  # no such stream yet
                continue
            for group in groups:
                lag = group.get("lag")
                lags.append(GroupLag("redis", stream, _text(group["name"]), None if lag is None else int(lag),
                                     int(group.get("pending", 0))))  # fmt: skip
    except redis_lib.RedisError as exc:
        log.warning("consumer lag unavailable: %s", exc)
        return []
    finally:
        client.close()
    return lags


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
