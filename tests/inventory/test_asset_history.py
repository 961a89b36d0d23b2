"""Append-only asset history: presence intervals, image changes, ``assets_at``, and the connector's facts kept."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.inventory.connectors.base import BaseConnector, DiscoveredAsset, Scope
from apps.inventory.models import Asset, AssetImageChange, AssetPresence
from apps.inventory.selectors import assets_at
from apps.inventory.services import connector_update, scan_run_now
from tests.conftest import client_for
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db

LAST = "aws-aws-000-eu-west-1-0000003"  # the synthetic fleet's fourth machine (index 3)


def fleet(tenant, count: int, ref: str = "ami-1"):
    return synthetic(
        tenant, name="history", count=count, regions={"aws": ["eu-west-1"]}, image_refs={"aws": [[ref, 1.0]]}
    )


def rescan(connector, **config):
    connector.refresh_from_db()
    connector = connector_update(actor=None, connector=connector, config={**connector.config, **config})
    return scan_run_now(actor=None, connector=connector, trigger="cli")


def test_disappear_and_reappear_gives_two_presence_intervals(tenant_a):
    connector = fleet(tenant_a, 4)
    first = scan_run_now(actor=None, connector=connector, trigger="cli")
    gone = rescan(connector, count=3)  # 1 of 4: below the guard, removed
    back = rescan(connector, count=4)

    asset = Asset.objects.get(connector=connector, instance_id=LAST)
    intervals = list(AssetPresence.objects.filter(asset=asset).values_list("seen_from", "seen_until"))
    assert intervals == [(first.started_at, gone.started_at), (back.started_at, None)]
    assert asset.removed_at is None
    assert asset.first_seen == first.started_at
    assert AssetPresence.objects.filter(asset__connector=connector).count() == 5  # 3 steady + 2 for the fourth

    assert {a.instance_id for a in assets_at(tenant_a.organization, gone.started_at)} == {
        f"aws-aws-000-eu-west-1-{i:07d}" for i in range(3)
    }
    assert len(assets_at(tenant_a.organization, first.started_at)) == 4
    assert len(assets_at(tenant_a.organization, back.started_at)) == 4
    assert assets_at(tenant_a.organization, first.started_at - datetime.timedelta(seconds=1)) == []


def test_image_change_is_recorded_and_answered_at_each_instant(tenant_a, tenant_b):
    connector = fleet(tenant_a, 2, ref="ami-1")
    first = scan_run_now(actor=None, connector=connector, trigger="cli")
    second = rescan(connector, image_refs={"aws": [["ami-2", 1.0]]})
    unchanged = rescan(connector)

    asset = Asset.objects.get(connector=connector, instance_id="aws-aws-000-eu-west-1-0000000")
    changes = list(AssetImageChange.objects.filter(asset=asset).values_list("at", "image_ref"))
    assert changes == [(first.started_at, "ami-1"), (second.started_at, "ami-2")]
    assert unchanged.unchanged == 2

    def refs(at):
        return {a.instance_id: a.image_ref for a in assets_at(tenant_a.organization, at)}

    ids = [f"aws-aws-000-eu-west-1-{i:07d}" for i in range(2)]
    assert refs(first.started_at) == dict.fromkeys(ids, "ami-1")
    assert refs(second.started_at - datetime.timedelta(microseconds=1)) == dict.fromkeys(ids, "ami-1")
    assert refs(second.started_at) == dict.fromkeys(ids, "ami-2")
    assert refs(timezone.now()) == dict.fromkeys(ids, "ami-2")
    assert assets_at(tenant_b.organization, timezone.now()) == []  # another tenant sees nothing of it


class OneMachine(BaseConnector):
    """A connector yielding one Azure scale-set machine on ``latest`` without exactVersion (what azure_parse builds)."""

    slug = "test-one-machine"

    def scopes(self):
        return [Scope(account="sub")]

    def test_connection(self):
        return "ok"

    def iter_images(self, scope):
        return iter(())

    def iter_assets(self, scope):
        yield DiscoveredAsset(
            platform="azure",
            account="sub",
            region="westeurope",
            instance_id="/subscriptions/sub/.../virtualmachines/0",
            extra={
                "image_reference_unresolved": "/subscriptions/sub/.../images/ubuntu/versions/latest",
                "unresolved_reason": "unmanaged because the scale set asks for `latest` and the instance reports no "
                "exact version",
                "power_state": "PowerState/running",
                "launched": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
            },
        )


def test_facts_and_resolution_reason_survive_the_sync_and_reach_the_api(tenant_a):
    connector = synthetic(tenant_a, name="azure-like", count=0)
    scan_run_now(actor=None, connector=connector, trigger="cli", connector_impl=OneMachine({}))

    asset = Asset.objects.get(instance_id="/subscriptions/sub/.../virtualmachines/0")
    assert asset.facts == {
        "image_reference_unresolved": "/subscriptions/sub/.../images/ubuntu/versions/latest",
        "unresolved_reason": "unmanaged because the scale set asks for `latest` and the instance reports no exact "
        "version",
        "power_state": "PowerState/running",
        "launched": "2026-01-02 00:00:00+00:00",  # what JSON cannot hold is kept as text, not dropped
    }
    assert asset.resolution_reason == (
        "unmanaged because the scale set asks for `latest` and the instance reports no exact version"
    )
    body = client_for(tenant_a.users["viewer"]).get(f"/api/v1/assets/{asset.pk}").json()
    assert body["resolution_reason"] == asset.resolution_reason
    assert body["facts"]["power_state"] == "PowerState/running"


def test_a_pack_and_an_as_of_report_for_a_past_day_use_the_image_machines_ran_then(tenant_a):
    """Evidence for a past end date names the versions the fleet ran then — not the one a later scan found."""
    from apps.evidence.pack.members import versions_in_use
    from apps.evidence.pack.scope import PackScope
    from apps.evidence.reports.contexts import _posture
    from tests.factories.images import UBUNTU, register

    old = register(
        tenant_a, UBUNTU, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1", "region": "eu-west-1"}]
    )
    new = register(
        tenant_a, UBUNTU, "2.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-2", "region": "eu-west-1"}]
    )
    connector = fleet(tenant_a, 2, ref="ami-1")
    scan_run_now(actor=None, connector=connector, trigger="cli")
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    AssetPresence.objects.filter(asset__connector=connector).update(seen_from=three_days_ago)
    AssetImageChange.objects.filter(asset__connector=connector).update(at=three_days_ago)
    Asset.objects.filter(connector=connector).update(first_seen=three_days_ago)
    rescan(connector, image_refs={"aws": [["ami-2", 1.0]]})
    assert set(Asset.objects.filter(connector=connector).values_list("image_version", flat=True)) == {new.pk}

    def scope(end):
        return PackScope(organization=tenant_a.organization, environments=(), start=None, end=end)

    today = timezone.now().date()
    assert versions_in_use(scope(today - datetime.timedelta(days=2))) == [old]
    assert versions_in_use(scope(today)) == [new]
    assert versions_in_use(scope(today - datetime.timedelta(days=4))) == []  # before the machines existed

    then = three_days_ago + datetime.timedelta(hours=1)
    assert [(r["version"], r["assets"]) for r in _posture(tenant_a.organization, None, None, then)["rows"]] == [
        (old, 2)
    ]
    assert [(r["version"], r["assets"]) for r in _posture(tenant_a.organization, None, None)["rows"]] == [(new, 2)]
