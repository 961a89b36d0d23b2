"""``kafka``: confluent-kafka's idempotent producer; a topic per event family, the organisation as the key.

Binary content mode (``ce_*`` headers, the data as the value) through the CloudEvents SDK's Kafka binding; the event
id is the ``ce_id`` header, the idempotency key consumers deduplicate on.
"""

from __future__ import annotations

from django.conf import settings

from ..encoding import kafka_binary
from .base import Outgoing, Transport, TransportError, register_transport

FAMILIES = ("image", "asset", "scan", "drift", "compliance", "signature", "gate", "drill")


def kafka_config(**extra) -> dict:
    """librdkafka settings: QLRF_EVENTS_KAFKA_BOOTSTRAP plus QLRF_EVENTS_KAFKA_CONFIG (key=value,…)."""
    config = {"bootstrap.servers": settings.QLRF_EVENTS_KAFKA_BOOTSTRAP}
    config.update(settings.QLRF_EVENTS_KAFKA_CONFIG)
    config.update(extra)
    return config


def topic_for(event_type: str) -> str:
    return f"{settings.QLRF_EVENTS_KAFKA_TOPIC_PREFIX}{event_type.split('.', 1)[0]}"


def topics_ensure(admin=None) -> list[str]:
    """Create the per-family topics that are missing with the configured partitions and retention."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(kafka_config()) if admin is None else admin
    existing = set(admin.list_topics(timeout=10).topics)
    retention_ms = str(settings.QLRF_EVENTS_RETENTION_DAYS * 86_400_000)
    wanted = [
        NewTopic(
            topic_for(family),
            num_partitions=settings.QLRF_EVENTS_KAFKA_PARTITIONS,
            replication_factor=-1,
            config={"retention.ms": retention_ms},
        )
        for family in FAMILIES
        if topic_for(family) not in existing
    ]
    if not wanted:
        return []
    for future in admin.create_topics(wanted).values():
        future.result(timeout=30)
    return [topic.topic for topic in wanted]


def kafka_reason(error) -> str:
    """The publish-error label of a KafkaError (or a KafkaException carrying one): librdkafka's error name."""
    error = error.args[0] if error.__class__.__name__ == "KafkaException" and error.args else error
    name = getattr(error, "name", None)
    return name().lower()[:64] if callable(name) else "other"


@register_transport
class KafkaTransport(Transport):
    slug = "kafka"
    publish_in_thread = True

    def __init__(self, **extra):
        from confluent_kafka import Producer

        self.producer = Producer(kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 5, **extra}))

    def publish(self, batch: list[Outgoing]) -> list[str]:
        positions: list[str | None] = [None] * len(batch)
        errors: list = []

        def delivered(index):
            def callback(err, msg):
                if err is not None:
                    errors.append(err)
                else:
                    positions[index] = f"{msg.topic()}/{msg.partition()}/{msg.offset()}"

            return callback

        for index, event in enumerate(batch):
            message = kafka_binary(event.envelope)
            headers = list(message.headers.items())
            if event.replay:
                headers.append(("qlrf_replay", b"1"))
            try:
                self.producer.produce(
                    topic_for(event.type),
                    key=event.organization.encode(),
                    value=message.value,
                    headers=headers,
                    on_delivery=delivered(index),
                )
            except BufferError:
                self.producer.flush(30)
                self.producer.produce(
                    topic_for(event.type), key=event.organization.encode(), value=message.value, headers=headers,
                    on_delivery=delivered(index),
                )  # fmt: skip
            except Exception as exc:
                raise TransportError(f"kafka: {exc}", reason=kafka_reason(exc)) from exc
            self.producer.poll(0)
        remaining = self.producer.flush(settings.QLRF_EVENTS_KAFKA_FLUSH_SECONDS)
        if errors:
            raise TransportError(f"kafka: {errors[0]}", reason=kafka_reason(errors[0]))
        if remaining or None in positions:
            raise TransportError(f"kafka: {remaining} message(s) not acknowledged", reason="unacknowledged")
        return positions

    def close(self) -> None:
        self.producer.flush(5)
