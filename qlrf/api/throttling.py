"""Per-organisation and per-principal API rate limits (ADR 015), counted by the maintained ``limits`` library.

Every API request is charged to its caller (user or API token) and to its organisation, for its endpoint class
(reads, writes, uploads, gate checks). Counters live in Redis when ``QLRF_REDIS_URL`` is set — atomic across every
worker and pod — and in process memory on the embedded default. A refused request is a 429 ``rate_limited`` with
``Retry-After`` and the IETF ``RateLimit-Policy`` / ``RateLimit`` headers (draft-ietf-httpapi-ratelimit-headers).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.cache import cache as django_cache
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES
from rest_framework import exceptions, throttling

from apps.tenancy.choices import EndpointClassChoices

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
POLICY_CACHE_SECONDS = 30


@dataclass(frozen=True)
class Policy:
    """One named quota: ``name`` is what the ``RateLimit*`` headers call it."""

    name: str
    item: RateLimitItem
    key: tuple[str, ...]


class RateLimited(exceptions.Throttled):
    """429 with ``Retry-After`` and the IETF rate-limit headers of the policy that refused the request."""

    default_code = "rate_limited"
    default_detail = "rate limit exceeded"

    def __init__(self, wait: int, headers: dict[str, str]):
        super().__init__(wait=wait, detail=f"rate limit exceeded; retry in {wait} s", code="rate_limited")
        self.rate_limit_headers = headers


@cache
def _limiter(uri: str, strategy: str, prefix: str):
    options = {"key_prefix": prefix} if uri.startswith(("redis", "rediss")) else {}
    return STRATEGIES[strategy](storage_from_string(uri, wrap_exceptions=True, **options))


def limiter():
    """The process's rate limiter for the configured storage and strategy (one connection pool per process)."""
    prefix = f"{settings.CACHES['default'].get('KEY_PREFIX') or 'qlrf'}:limits"
    return _limiter(settings.QLRF_RATE_LIMIT_STORAGE, settings.QLRF_RATE_LIMIT_STRATEGY, prefix)


def endpoint_class(request, view) -> str:
    """Reads for safe methods; otherwise the view's ``rate_limit_class`` (uploads, gate) or writes."""
    if request.method in SAFE_METHODS:
        return EndpointClassChoices.READS
    return getattr(view, "rate_limit_class", EndpointClassChoices.WRITES)


def _organization_id(request) -> int | None:
    """The organisation a request is charged to: the token's, or a person's only (or named) organisation."""
    token = request.auth
    if getattr(token, "organization_id", None):
        return token.organization_id
    from apps.tenancy.models import Membership

    orgs = Membership.objects.filter(user_id=request.user.pk).values_list("organization_id", "organization__slug")
    orgs = set(orgs)
    if len(orgs) == 1:
        return next(iter(orgs))[0]
    named = request.query_params.get("organization")
    return next((pk for pk, slug in orgs if named and named in (slug, str(pk))), None)


def organization_rates(organization_id: int | None, klass: str) -> dict[str, str]:
    """The rates in force for one organisation and endpoint class: its admin override, else the settings."""
    rates = dict(settings.QLRF_RATE_LIMITS[klass])
    if organization_id is None:
        return rates
    key = f"ratelimit-policy:{organization_id}"
    overrides = django_cache.get(key)
    if overrides is None:
        from apps.tenancy.models import RateLimitPolicy

        rows = RateLimitPolicy.objects.filter(organization_id=organization_id)
        overrides = {r.endpoint_class: (r.organization_rate, r.principal_rate) for r in rows}
        django_cache.set(key, overrides, POLICY_CACHE_SECONDS)
    org_rate, principal_rate = overrides.get(klass, ("", ""))
    return {"organization": org_rate or rates["organization"], "principal": principal_rate or rates["principal"]}


def forget_organization_rates(organization_id: int) -> None:
    """Drop the cached overrides of an organisation (called after an admin edit)."""
    django_cache.delete(f"ratelimit-policy:{organization_id}")


def policies_for(request, view) -> list[Policy]:
    """The quotas a request is charged against, the principal's first."""
    klass = endpoint_class(request, view)
    org_id = _organization_id(request)
    rates = organization_rates(org_id, klass)
    token = request.auth
    principal = f"token:{token.pk}" if getattr(token, "organization_id", None) else f"user:{request.user.pk}"
    policies = [
        Policy(f"principal-{klass}", item, ("principal", klass, principal)) for item in parse_many(rates["principal"])
    ]
    if org_id is not None:
        policies += [
            Policy(f"organization-{klass}", item, ("organization", klass, str(org_id)))
            for item in parse_many(rates["organization"])
        ]
    return policies


def _policy_header(policies: list[Policy]) -> str:
    return ", ".join(f'"{p.name}";q={p.item.amount};w={p.item.get_expiry()}' for p in policies)


class TenantRateThrottle(throttling.BaseThrottle):
    """DRF throttle charging the caller and its organisation; refuses with :class:`RateLimited`."""

    def allow_request(self, request, view) -> bool:
        if not settings.QLRF_RATE_LIMITS_ENABLED or not request.user or not request.user.is_authenticated:
            return True
        policies = policies_for(request, view)
        rate_limiter = limiter()
        try:
            for policy in policies:
                if not rate_limiter.hit(policy.item, *policy.key):
                    self._refuse(rate_limiter, policy, policies)
        except StorageError:
            # The limiter must never take the API down with it: an unreachable store lets the request through.
            logger.warning("rate-limit storage unavailable; request not counted", exc_info=True)
        return True

    def _refuse(self, rate_limiter, policy: Policy, policies: list[Policy]):
        stats = rate_limiter.get_window_stats(policy.item, *policy.key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        headers = {
            "RateLimit-Policy": _policy_header(policies),
            "RateLimit": f'"{policy.name}";r={stats.remaining};t={wait}',
        }
        raise RateLimited(wait, headers)


def _bad_token_key(request) -> tuple[RateLimitItem, str, str]:
    return parse(settings.QLRF_BAD_TOKEN_LIMIT), "bad-token", request.META.get("REMOTE_ADDR") or "unknown"


def bad_token_check(request) -> None:
    """Refuse (429 ``too_many_failures``) an address whose failed bearer tokens reached ``QLRF_BAD_TOKEN_LIMIT``."""
    if not settings.QLRF_RATE_LIMITS_ENABLED:
        return
    item, *key = _bad_token_key(request)
    rate_limiter = limiter()
    try:
        if rate_limiter.test(item, *key):
            return
        stats = rate_limiter.get_window_stats(item, *key)
    except StorageError:
        logger.warning("rate-limit storage unavailable; bad-token check skipped", exc_info=True)
        return
    wait = max(1, math.ceil(stats.reset_time - time.time()))
    exc = RateLimited(wait, {"RateLimit-Policy": f'"bad-token";q={item.amount};w={item.get_expiry()}'})
    exc.detail = exceptions.ErrorDetail(
        f"too many failed tokens from this address; retry in {wait} s", "too_many_failures"
    )
    raise exc


def bad_token_record(request) -> None:
    """Count one failed bearer token against the client address."""
    if not settings.QLRF_RATE_LIMITS_ENABLED:
        return
    item, *key = _bad_token_key(request)
    try:
        limiter().hit(item, *key)
    except StorageError:
        logger.warning("rate-limit storage unavailable; bad token not counted", exc_info=True)
