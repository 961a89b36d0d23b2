"""Caches that are never stale: one generation counter per organisation (ADR 015, docs/performance.md).

Every write service records an audit event (``audit_record``) or an outbox event (``emit``) inside its transaction;
both call :func:`generation_bump`, which increments the organisation's counter in the shared cache at once and again
on commit (so nothing built from not-yet-committed data survives the commit). Cached reads put :func:`generation` in
their key, so the first read after a committed write misses, in every process sharing the cache (Redis in
production, local memory on the embedded default), and nothing else needs invalidating or stamp queries. A counter
lost to eviction is re-seeded from the clock, never reset to a value an old entry could carry.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

COUNTER_TIMEOUT = None  # the counter never expires on its own; entries keyed on it carry their own timeouts


def _key(organization_id) -> str:
    return f"gen:org:{organization_id}"


def _org_id(organization) -> int | None:
    return getattr(organization, "pk", organization)


def generation(organization) -> int:
    """The organisation's current generation (one cache read)."""
    org_id = _org_id(organization)
    value = cache.get(_key(org_id))
    if value is None:
        cache.add(_key(org_id), time.time_ns(), COUNTER_TIMEOUT)
        value = cache.get(_key(org_id))
    return int(value)


def _bump_now(org_id) -> None:
    try:
        cache.incr(_key(org_id))
    except ValueError:  # no counter yet (or evicted): seed from the clock, above any earlier value
        cache.set(_key(org_id), time.time_ns(), COUNTER_TIMEOUT)


def generation_bump(organization) -> None:
    """Advance the organisation's generation now and again when the current transaction commits.

    The bump now makes the writing transaction's own next read miss; the bump on commit retires anything another
    process cached between the two from data it could not yet see (uncommitted). A rollback costs one miss.
    """
    org_id = _org_id(organization)
    if org_id is None:
        return
    _bump_now(org_id)
    transaction.on_commit(lambda: _bump_now(org_id))


def cached(organization, name: str, parts: tuple, build, timeout) -> object:
    """``build()`` cached under the organisation's generation; ``timeout`` is seconds or a callable of the value."""
    key = f"gc:{name}:{_org_id(organization)}:{generation(organization)}:" + ":".join(str(p) for p in parts)
    hit = cache.get(key)
    if hit is None:
        hit = build()
        cache.set(key, hit, timeout(hit) if callable(timeout) else timeout)
    return hit
