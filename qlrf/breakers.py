"""Circuit-breaker state storage shared by every breaker of the installation (connector scopes, insight providers).

State lives in Redis when ``REDIS_URL`` is set, so every worker and pod sees one breaker; in process memory otherwise.
"""

from __future__ import annotations

import pybreaker
from django.conf import settings


def breaker_storage(name: str) -> pybreaker.CircuitBreakerStorage:
    """The storage of breaker ``name``: Redis (short timeouts) when configured, else this process's memory."""
    if not settings.REDIS_URL:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, client, namespace=name)
