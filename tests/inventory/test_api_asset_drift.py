"""Per-machine drift on /api/v1/assets: status, baseline and days behind, filterable by status, constant queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.images.models import Channel, ChannelAssignment
from apps.inventory.models import Asset, Connector, ScanRun
from tests.conftest import client_for
from tests.factories import EnvironmentFactory
from tests.factories.images import UBUNTU, register

pytestmark = pytest.mark.django_db


def _asset(tenant, instance_id, *, version=None, environment=None, connector=None, seen=None, removed=None):
    now = timezone.now()
    return Asset.objects.create(
        organization=tenant.organization,
        connector=connector,
        platform="aws",
        account="111111111111",
        region="eu-west-1",
        instance_id=instance_id,
        image_version=version,
        environment=environment,
        fingerprint="x",
        first_seen=now - datetime.timedelta(days=30),
        last_seen=seen or now,
        removed_at=removed,
    )


@pytest.fixture
def fleet(tenant_a):
    now = timezone.now()
    prod = EnvironmentFactory(organization=tenant_a.organization, slug="prod")
    old = register(tenant_a, UBUNTU, "1.0.0")
    new = register(tenant_a, UBUNTU, "1.1.0")
    channel = Channel.objects.create(
        organization=tenant_a.organization, family=new.family, environment=prod, version=new
    )
    ChannelAssignment.objects.create(
        organization=tenant_a.organization,
        channel=channel,
        from_version=old,
        to_version=new,
        assigned_at=now - datetime.timedelta(days=12),
        grace_until=now - datetime.timedelta(days=9, hours=1),
    )
    connector = Connector.objects.create(organization=tenant_a.organization, platform="aws", name="aws")
    ScanRun.objects.create(
        organization=tenant_a.organization, connector=connector, status="succeeded", started_at=now, finished_at=now
    )
    return {
        "current": _asset(tenant_a, "i-current", version=new, environment=prod, connector=connector),
        "outdated": _asset(tenant_a, "i-outdated", version=old, environment=prod, connector=connector),
        "unmanaged": _asset(tenant_a, "i-unmanaged", environment=prod, connector=connector),
        "no-channel": _asset(tenant_a, "i-dev", version=old, connector=connector),
        "stale": _asset(
            tenant_a, "i-stale", version=old, environment=prod, connector=connector, seen=now - datetime.timedelta(1)
        ),
        "removed": _asset(tenant_a, "i-gone", version=old, environment=prod, removed=now - datetime.timedelta(2)),
    }


def _rows(response):
    assert response.status_code == 200, response.json()
    return {row["instance_id"]: row for row in response.json()["results"]}


def test_each_machine_carries_status_baseline_and_days_behind(tenant_a, fleet):
    rows = _rows(client_for(tenant_a.users["viewer"]).get(reverse("asset-list")))

    assert {i: r["drift_status"] for i, r in rows.items()} == {
        "i-current": "current",
        "i-outdated": "outdated",
        "i-unmanaged": "unmanaged",
        "i-dev": "current",  # no channel in its (lack of) environment: only a revocation could outdate it
        "i-stale": "stale",
        "i-gone": "removed",
    }
    assert rows["i-outdated"]["baseline"] == "ubuntu-2204-base@1.1.0"
    assert rows["i-outdated"]["days_behind"] == 9
    assert rows["i-outdated"]["outdated_since"] is not None
    assert rows["i-current"]["baseline"] == "ubuntu-2204-base@1.1.0"
    assert (rows["i-current"]["days_behind"], rows["i-current"]["outdated_since"]) == (None, None)
    assert rows["i-unmanaged"]["baseline"] is None and rows["i-dev"]["baseline"] is None
    assert rows["i-stale"]["days_behind"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=outdated", {"i-outdated"}),
        ("status=current", {"i-current", "i-dev"}),
        ("status=compliant", {"i-current", "i-dev"}),
        ("status=unmanaged", {"i-unmanaged"}),
        ("status=stale", {"i-stale"}),
        ("status=outdated&status=stale", {"i-outdated", "i-stale"}),
    ],
)
def test_filter_by_status(tenant_a, fleet, query, expected):
    rows = _rows(client_for(tenant_a.users["viewer"]).get(f"{reverse('asset-list')}?{query}"))

    assert set(rows) == expected


def test_an_unknown_status_is_400_not_a_500(tenant_a, fleet):
    response = client_for(tenant_a.users["viewer"]).get(reverse("asset-list"), {"status": "bogus"})

    assert response.status_code == 400
    assert "status" in str(response.json())


def test_another_tenants_machines_are_never_counted_or_shown(tenant_a, tenant_b, fleet):
    rows = _rows(client_for(tenant_b.users["admin"]).get(reverse("asset-list"), {"status": "outdated"}))

    assert rows == {}


def test_the_query_count_does_not_grow_with_the_fleet(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("asset-list"))
    prod = fleet["outdated"].environment
    for n in range(40):
        _asset(tenant_a, f"i-more-{n}", version=fleet["outdated"].image_version, environment=prod)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("asset-list"))

    assert response.json()["count"] == 46
    assert len(many) == len(few)
