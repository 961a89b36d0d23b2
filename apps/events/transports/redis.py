"""``redis``: Redis Streams. Pipelined ``XADD`` (PIPELINE_SIZE per round trip), the event id in the entry, trimmed by
``MAXLEN ~``."""

from __future__ import annotations

import redis as redis_lib
from django.conf import settings

from .base import Outgoing, Transport, TransportError, register_transport

PIPELINE_SIZE = 500  # XADDs per round trip


def stream_client() -> redis_lib.Redis:
    if not settings.REDIS_URL:
        raise TransportError("the redis event transport needs QLRF_REDIS_URL", reason="configuration")
    return redis_lib.Redis.from_url(settings.REDIS_URL, socket_timeout=10, socket_connect_timeout=5)


def redis_reason(exc: Exception) -> str:
    """The publish-error label of a redis-py exception."""
    if isinstance(exc, redis_lib.TimeoutError):
        return "timeout"
    if isinstance(exc, redis_lib.ConnectionError):
        return "connection"
    if isinstance(exc, redis_lib.ResponseError):
        return "response"
    return "other"


def entry_fields(event: Outgoing) -> dict:
    """The stream entry: the id and routing fields in the clear, the CloudEvent (structured JSON) in ``event``."""
    fields = {
        "id": event.id,
        "type": event.type,
        "organization": event.organization,
        "event": event.structured(),
    }
    if event.replay:
        fields["replay"] = "1"
    return fields


@register_transport
class RedisStreamTransport(Transport):
    slug = "redis"
    publish_in_thread = True

    def __init__(self):
        self.client = stream_client()
        self.stream = settings.QLRF_EVENTS_REDIS_STREAM
        self.maxlen = settings.QLRF_EVENTS_REDIS_MAXLEN

    def publish(self, batch: list[Outgoing]) -> list[str]:
        """XADD the batch in order, PIPELINE_SIZE entries per round trip; a failure raises with nothing returned (the
        entries already added stay in the stream: the relay republishes them, at least once)."""
        ids = []
        try:
            for offset in range(0, len(batch), PIPELINE_SIZE):
                pipe = self.client.pipeline(transaction=False)
                for event in batch[offset : offset + PIPELINE_SIZE]:
                    pipe.xadd(self.stream, entry_fields(event), maxlen=self.maxlen, approximate=True)
                ids.extend(pipe.execute())
        except redis_lib.RedisError as exc:
            raise TransportError(f"redis: {exc}", reason=redis_reason(exc)) from exc
        return [f"{self.stream}/{entry.decode()}" for entry in ids]

    def close(self) -> None:
        self.client.close()
