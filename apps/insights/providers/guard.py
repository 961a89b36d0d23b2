"""Bounds on model calls: a per-organisation daily quota of requests and tokens (``limits``, in Redis when
configured, shared by every worker), a circuit breaker per organisation and provider (pybreaker, Redis state when
configured), and ``tenacity`` retries of transient failures inside a bounded timeout."""

from __future__ import annotations

import pybreaker
from django.conf import settings
from limits import parse
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from qlrf.api.throttling import limiter
from qlrf.breakers import breaker_storage

from .wire import CALLS, Answer, transient_errors

_breakers: dict[str, pybreaker.CircuitBreaker] = {}


class LimitReached(Exception):
    """The organisation used its model requests or tokens for today."""


def breaker(organization_id: int, kind: str) -> pybreaker.CircuitBreaker:
    name = f"qlrf:breaker:insights:{organization_id}:{kind}"
    if name not in _breakers:
        _breakers[name] = pybreaker.CircuitBreaker(
            fail_max=settings.QLRF_INSIGHTS_BREAKER_FAIL_MAX,
            reset_timeout=settings.QLRF_INSIGHTS_BREAKER_RESET_SECONDS,
            state_storage=breaker_storage(name),
            name=name,
            throw_new_error_on_trip=False,
        )
    return _breakers[name]


def _items(provider):
    return parse(f"{provider.requests_per_day}/day"), parse(f"{provider.tokens_per_day}/day")


def take_request(provider) -> None:
    """Charge one request to the organisation; LimitReached when its requests or tokens of the day are used up."""
    requests, tokens = _items(provider)
    key = ("insights", str(provider.organization_id))
    if not limiter().test(tokens, *key, "tokens"):
        raise LimitReached(f"model tokens per day ({provider.tokens_per_day}) used up")
    if not limiter().hit(requests, *key, "requests"):
        raise LimitReached(f"model requests per day ({provider.requests_per_day}) used up")


def charge_tokens(provider, used: int) -> None:
    """Count the tokens a call used (the call that crosses the quota completes; the next is refused)."""
    _, tokens = _items(provider)
    key = ("insights", str(provider.organization_id), "tokens")
    remaining = limiter().get_window_stats(tokens, *key).remaining  # a hit above the remainder would count nothing
    if used > 0 and remaining > 0:
        limiter().hit(tokens, *key, cost=min(used, remaining))


def call(provider, secret: str, *, system: str, user: str) -> Answer:
    """One bounded model call through the breaker, with retries of transient failures."""
    attempt = retry(
        retry=retry_if_exception_type(transient_errors()),
        stop=stop_after_attempt(settings.QLRF_INSIGHTS_RETRIES + 1),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )(CALLS[provider.kind])
    return breaker(provider.organization_id, provider.kind).call(
        attempt,
        base_url=provider.base_url,
        api_key=secret,
        model=provider.model,
        system=system,
        user=user,
        max_tokens=provider.max_output_tokens,
        timeout=settings.QLRF_INSIGHTS_TIMEOUT_SECONDS,
    )
