"""Read replicas (``QLRF_DATABASE_REPLICA_URL``, issue #17): reads that tolerate lag go to the replica, nothing else.

What may lag is decided here, in one place:

- only **safe requests** (GET, HEAD, OPTIONS) of the portal and the API read the replica, and only while no write has
  happened in them. Background tasks, management commands and ``rf`` always read the primary (they decide writes on
  what they read); so do unsafe requests, and every read inside a transaction;
- only **what users see** may lag — the registry, inventory, drift snapshots, compliance evidence, reports, events
  (``LAGGING_APPS``). **Who may see it** never lags: users, sessions, memberships, tokens, object permissions and
  lockouts are read from the primary, so a revoked membership or token stops working at once;
- the outdated-list builds (ADR 021) are written on read, so they stay on the primary (``PRIMARY_MODELS``);
- **read-your-writes**: a request that wrote sets a short cookie (``QLRF_DATABASE_REPLICA_STICKY_SECONDS``); the same
  browser reads the primary until it expires, so the page after a promotion shows the promotion. An API client
  without cookies reads the replica on its next GET and may see the state from before its write for the replica's lag.

The request time budget (``qlrf.request_budget``) bounds the primary connection only.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

REPLICA = "replica"
LAGGING_APPS = frozenset({"images", "compliance", "inventory", "drift", "evidence", "events"})
PRIMARY_MODELS = frozenset({"drift.driftoutdatedbuild", "drift.driftoutdatedentry"})
STICKY_COOKIE = "qlrf_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class ReadState:
    """Whether the current request may read the replica, and whether it has written."""

    replica_allowed: bool = False
    wrote: bool = False


_state: ContextVar[ReadState | None] = ContextVar("qlrf_read_state", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_reads_active() -> bool:
    """The current request may read the replica: permission checks must then be evaluated on the primary first
    (``TenantQuerySet.restrict`` does), since a subquery runs wherever its outer query runs."""
    state = _state.get()
    return state is not None and state.replica_allowed and not state.wrote


class ReplicaRouter:
    """Route reads per the module docstring; every write, and every migration, goes to the primary."""

    def db_for_read(self, model, **hints):
        if not replica_reads_active():
            return None
        if model._meta.app_label not in LAGGING_APPS or model._meta.label_lower in PRIMARY_MODELS:
            return None
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = True
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows on both sides

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaReadMiddleware:
    """Let a safe request without a recent write of its own read the replica; mark a writing request's browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        state = ReadState(replica_allowed=safe and not _recently_wrote(request))
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if state.wrote or not safe:
            seconds = settings.QLRF_DATABASE_REPLICA_STICKY_SECONDS
            response.set_cookie(
                STICKY_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


def _recently_wrote(request) -> bool:
    try:
        return int(request.COOKIES.get(STICKY_COOKIE, "0")) > time.time()
    except ValueError:
        return False
