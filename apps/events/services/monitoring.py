"""What /metrics reads about the event bus beyond the outbox rows: publish errors and consumer lag.

Publish errors are counted in the database (``PublishErrorCount``): every relay process adds to the same rows and
any web process exports them, and the count survives the outage it describes (a Redis that is down cannot hold the
count of its own failures). Consumer lag is read from the streams at scrape time (``XINFO GROUPS``): entries not yet
delivered to each consumer group, and entries delivered but not acknowledged, per stream.
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
    pending: int  # delivered, not acknowledged


def consumer_lag() -> list[GroupLag]:
    """Every consumer group of the inbound stream and of the outbound events stream (when the relay publishes to
    Redis), with its lag; an unreachable Redis yields nothing (and a warning), never a failed scrape."""
    if not settings.REDIS_URL:
        return []
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
