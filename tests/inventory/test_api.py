"""Inventory API: the generic isolation suite for connectors, scan runs and assets, plus scan/test/graph actions."""

import itertools

import pytest
from django.urls import reverse

from apps.inventory.models import Asset, Connector, ScanRun
from apps.inventory.services import scan_run_now
from apps.tenancy.services import token_create
from tests.api_base import TenantAPITests
from tests.conftest import client_for
from tests.inventory.conftest import synthetic
from tests.tenancy.test_tokens import bearer

_seq = itertools.count(1)


class TestConnectorAPI(TenantAPITests):
    basename = "connector"
    model = Connector
    update_payload = {"schedule_minutes": 60}

    def make(self, tenant):
        return synthetic(tenant, name=f"c{next(_seq)}", count=2)

    def create_payload(self, tenant):
        return {
            "organization": tenant.organization.slug,
            "platform": "synthetic",
            "name": f"n{next(_seq)}",
            "config": {"count": 1},
        }


class TestScanRunAPI(TenantAPITests):
    basename = "scan-run"
    model = ScanRun
    writable = False
    deletable = False

    def make(self, tenant):
        return scan_run_now(actor=None, connector=synthetic(tenant, name=f"c{next(_seq)}", count=2), trigger="cli")


class TestAssetAPI(TenantAPITests):
    basename = "asset"
    model = Asset
    writable = False
    deletable = False

    def make(self, tenant):
        connector = synthetic(tenant, name=f"c{next(_seq)}", count=1, regions={"aws": ["eu-west-1"]})
        scan_run_now(actor=None, connector=connector, trigger="cli")
        return Asset.objects.filter(connector=connector).get()


@pytest.mark.django_db
class TestInventoryActions:
    def test_invalid_config_is_422_with_the_path_and_nothing_written(self, tenant_a):
        client = client_for(tenant_a.users["engineer"])
        response = client.post(
            reverse("connector-list"),
            {"platform": "aws", "name": "x", "config": {"regions": [], "bogus": 1}},
            format="json",
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_config"
        assert {e["path"] for e in body["errors"]} == {"/config", "/config/regions"}
        assert Connector.objects.count() == 0

    def test_secret_reference_only_never_a_secret(self, tenant_a):
        client = client_for(tenant_a.users["engineer"])
        response = client.post(
            reverse("connector-list"),
            {"platform": "synthetic", "name": "x", "config": {"count": 1}, "credential_ref": "hunter2"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_reference"
        assert Connector.objects.count() == 0

    def test_operator_token_queues_a_scan_and_a_second_is_409(self, tenant_a, django_capture_on_commit_callbacks):
        connector = synthetic(tenant_a, count=3)
        _, raw = token_create(actor=None, organization=tenant_a.organization, name="ops", role="operator")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = bearer(raw).post(reverse("connector-scan", args=[connector.pk]))
        assert response.status_code == 202 and response.json()["status"] == "queued"
        assert len(callbacks) == 1  # enqueued only once the transaction commits
        again = bearer(raw).post(reverse("connector-scan", args=[connector.pk]))
        assert again.status_code == 409 and again.json()["code"] == "scan_in_progress"
        assert ScanRun.objects.filter(connector=connector).count() == 1

    def test_viewer_cannot_scan(self, tenant_a):
        connector = synthetic(tenant_a, count=3)
        response = client_for(tenant_a.users["viewer"]).post(reverse("connector-scan", args=[connector.pk]))
        assert response.status_code == 403
        assert ScanRun.objects.count() == 0

    def test_queued_scan_runs_through_the_task_queue(self, tenant_a, django_capture_on_commit_callbacks):
        connector = synthetic(tenant_a, count=3)
        with django_capture_on_commit_callbacks(execute=True):
            client_for(tenant_a.users["operator"]).post(reverse("connector-scan", args=[connector.pk]))
        run = ScanRun.objects.get(connector=connector)
        assert (run.status, run.new) == ("succeeded", 3)  # the test cluster runs tasks synchronously

    def test_connection_test_action(self, tenant_a):
        connector = synthetic(tenant_a, count=5)
        response = client_for(tenant_a.users["engineer"]).post(reverse("connector-test", args=[connector.pk]))
        assert response.json() == {"ok": True, "detail": "synthetic fleet of 5 machines over 2 scopes"}

    def test_asset_filters_and_graph(self, tenant_a):
        scan_run_now(actor=None, connector=synthetic(tenant_a, count=8), trigger="cli")
        client = client_for(tenant_a.users["viewer"])
        eu = client.get(reverse("asset-list"), {"region": "eu-west-1", "limit": 100}).json()
        assert eu["count"] == 4 and {a["region"] for a in eu["results"]} == {"eu-west-1"}
        tagged = client.get(reverse("asset-list"), {"tag": "Team=web"}).json()
        assert all(a["tags"]["Team"] == "web" for a in tagged["results"])
        asset = Asset.objects.first()
        graph = client.get(reverse("asset-graph", args=[asset.pk])).json()
        assert graph["nodes"] == [{"kind": "instance", "ref": asset.instance_id}]


@pytest.mark.django_db
def test_deleting_a_connector_removes_its_schedule_and_keeps_history(tenant_a):
    from django_q.models import Schedule

    client = client_for(tenant_a.users["engineer"])
    fresh = synthetic(tenant_a, name="fresh", count=1)
    assert client.delete(reverse("connector-detail", args=[fresh.pk])).status_code == 204
    assert not Schedule.objects.filter(name=fresh.schedule_name).exists()
    scanned = synthetic(tenant_a, name="scanned", count=2)
    scan_run_now(actor=None, connector=scanned, trigger="cli")
    refused = client.delete(reverse("connector-detail", args=[scanned.pk]))
    assert refused.status_code == 400 and refused.json()["code"] == "has_history"
    assert Connector.objects.filter(pk=scanned.pk).exists() and ScanRun.objects.filter(connector=scanned).count() == 1
