"""Circuit breakers per connector scope (pybreaker, ADR 015): a cloud API that keeps failing is left alone a while.

A scope whose last ``QLRF_BREAKER_FAIL_MAX`` scans failed is not called again for ``QLRF_BREAKER_RESET_SECONDS``: it
fails at once with the reason "circuit open" (so it removes nothing), then one trial scan decides. State is in Redis
when ``QLRF_REDIS_URL`` is set, shared by every worker; in process memory otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pybreaker
from django.conf import settings

from qlrf.breakers import breaker_storage

from ..connectors.base import BaseConnector, DiscoveredAsset, Scope, ScopeFailed

CIRCUIT_OPEN = "circuit open"
_breakers: dict[str, pybreaker.CircuitBreaker] = {}


def scope_breaker(connector_id: int, scope: Scope) -> pybreaker.CircuitBreaker:
    """The breaker of one connector scope (one per process; its state shared through Redis when configured)."""
    name = f"qlrf:breaker:connector:{connector_id}:{scope.key}"
    if name not in _breakers:
        _breakers[name] = pybreaker.CircuitBreaker(
            fail_max=settings.QLRF_BREAKER_FAIL_MAX,
            reset_timeout=settings.QLRF_BREAKER_RESET_SECONDS,
            state_storage=breaker_storage(name),
            name=name,
            throw_new_error_on_trip=False,  # the failure that trips the breaker keeps its own reason
        )
    return _breakers[name]


def guarded_assets(connector: BaseConnector, scope: Scope, *, connector_id: int) -> Iterator[DiscoveredAsset]:
    """``connector.iter_assets(scope)`` through the scope's breaker; an open breaker is ``ScopeFailed`` at once."""
    if not settings.QLRF_BREAKERS_ENABLED:
        yield from connector.iter_assets(scope)
        return
    breaker = scope_breaker(connector_id, scope)
    try:
        with breaker.calling():
            yield from connector.iter_assets(scope)
    except pybreaker.CircuitBreakerError:
        raise ScopeFailed(scope, CIRCUIT_OPEN) from None
