"""Circuit breakers per connector scope: after consecutive failed scans a scope fails at once, removing nothing."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.inventory.connectors.base import BaseConnector, DiscoveredAsset, Scope, ScopeFailed
from apps.inventory.models import Asset, Connector, ScanRun
from apps.inventory.services import breakers
from apps.inventory.services.sync import inventory_sync

pytestmark = pytest.mark.django_db

GOOD, FLAKY = Scope("111111111111", "eu-west-1"), Scope("222222222222", "eu-west-1")


class TwoScopes(BaseConnector):
    """A connector whose second scope's API answers errors while ``down`` is set; counts the calls it receives."""

    slug = "two-scopes"
    down = True
    calls: list[str] = []

    def scopes(self):
        return [GOOD, FLAKY]

    def test_connection(self):
        return "ok"

    def iter_images(self, scope):
        return iter(())

    def iter_assets(self, scope):
        type(self).calls.append(scope.key)
        if scope == FLAKY and type(self).down:
            raise ScopeFailed(scope, "HTTP 503 from the API")
        yield DiscoveredAsset(
            platform="aws", account=scope.account, region=scope.region, instance_id=f"i-{scope.account}"
        )


def _scan(connector_row):
    run = ScanRun.objects.create(
        organization=connector_row.organization, connector=connector_row, status="running", started_at=timezone.now()
    )
    inventory_sync(run=run, connector=TwoScopes({}))
    ScanRun.objects.filter(pk=run.pk).update(status="partial", finished_at=timezone.now())  # one active run at a time
    run.refresh_from_db()
    return run


@pytest.fixture
def connector_row(tenant_a):
    breakers._breakers.clear()
    TwoScopes.calls, TwoScopes.down = [], True
    return Connector.objects.create(
        organization=tenant_a.organization, platform="aws", name=f"c-{uuid.uuid4().hex[:6]}"
    )


@override_settings(QLRF_BREAKERS_ENABLED=True, QLRF_BREAKER_FAIL_MAX=2, QLRF_BREAKER_RESET_SECONDS=60, REDIS_URL=None)
def test_an_open_breaker_fails_the_scope_at_once_and_removes_nothing(connector_row):
    first, second = _scan(connector_row), _scan(connector_row)
    TwoScopes.down = False  # the API has recovered, but the breaker is open: it is not called
    third = _scan(connector_row)
    assert [r.scopes[FLAKY.key]["error"] for r in (first, second)] == ["HTTP 503 from the API"] * 2
    assert third.scopes[FLAKY.key]["status"] == "failed"
    assert third.scopes[FLAKY.key]["error"] == "circuit open"
    assert third.scopes[GOOD.key]["status"] == "succeeded"
    assert TwoScopes.calls.count(FLAKY.key) == 2 and TwoScopes.calls.count(GOOD.key) == 3
    assert list(Asset.objects.filter(removed_at__isnull=False)) == []


@override_settings(QLRF_BREAKERS_ENABLED=True, QLRF_BREAKER_FAIL_MAX=2, QLRF_BREAKER_RESET_SECONDS=0, REDIS_URL=None)
def test_after_the_cool_down_one_trial_scan_closes_the_breaker(connector_row):
    _scan(connector_row), _scan(connector_row)
    TwoScopes.down = False
    trial = _scan(connector_row)
    assert trial.scopes[FLAKY.key]["status"] == "succeeded"
    assert Asset.objects.filter(account=FLAKY.account).count() == 1


@override_settings(QLRF_BREAKERS_ENABLED=False)
def test_without_breakers_every_scan_calls_the_api(connector_row):
    runs = [_scan(connector_row) for _ in range(4)]
    assert [r.scopes[FLAKY.key]["error"] for r in runs] == ["HTTP 503 from the API"] * 4
    assert TwoScopes.calls.count(FLAKY.key) == 4


@override_settings(
    QLRF_BREAKERS_ENABLED=True,
    QLRF_BREAKER_FAIL_MAX=2,
    QLRF_BREAKER_RESET_SECONDS=60,
    REDIS_URL="redis://127.0.0.1:6379/8",
)
def test_breaker_state_is_shared_through_redis(connector_row):
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/8").flushdb()
    _scan(connector_row), _scan(connector_row)
    breakers._breakers.clear()  # another worker: a fresh breaker object, the same Redis state
    TwoScopes.down = False
    third = _scan(connector_row)
    assert third.scopes[FLAKY.key]["error"] == "circuit open"
