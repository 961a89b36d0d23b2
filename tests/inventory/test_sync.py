"""The set-based sync: new/updated/unchanged/removed, scopes that fail remove nothing, resolution, mapping."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import OutboxEvent
from apps.inventory.models import Asset, ScanRun
from apps.inventory.services import connector_update, scan_run_now
from apps.inventory.services.seen import Sightings
from apps.tenancy.models import AuditEvent
from tests.factories.images import register
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db


def scan(connector):
    return scan_run_now(actor=None, connector=connector, trigger="cli")


def counts(run):
    return {k: getattr(run, k) for k in ("discovered", "new", "updated", "unchanged", "removed")}


def test_first_scan_discovers_and_second_reports_all_unchanged(tenant_a, envs, sites):
    connector = synthetic(tenant_a)
    first = scan(connector)
    assert first.status == "succeeded"
    assert counts(first) == {"discovered": 40, "new": 40, "updated": 0, "unchanged": 0, "removed": 0}
    assert Asset.objects.filter(organization=tenant_a.organization).count() == 40
    before = {a.pk: (a.fingerprint, a.first_seen, a.name) for a in Asset.objects.all()}
    second = scan(connector)
    assert counts(second) == {"discovered": 40, "new": 0, "updated": 0, "unchanged": 40, "removed": 0}
    after = {a.pk: (a.fingerprint, a.first_seen, a.name) for a in Asset.objects.all()}
    assert after == before
    # the unchanged rows were not written (ADR 026): the scopes' sightings say the second scan saw them
    assert set(Asset.objects.values_list("last_seen", flat=True)) == {first.started_at}
    sightings = Sightings([tenant_a.organization.pk])
    assert {sightings.last_seen(a) for a in Asset.objects.all()} == {second.started_at}
    audit = AuditEvent.objects.filter(action="inventory.scanrun.finish").order_by("id")
    assert [a.changes["after"]["counts"]["unchanged"] for a in audit] == [0, 40]
    finished = OutboxEvent.objects.filter(type="scan.finished").order_by("occurred_at")
    assert [e.payload["status"] for e in finished] == ["succeeded", "succeeded"]
    assert OutboxEvent.objects.filter(type="asset.discovered").count() == 2  # one per scope of the first scan


def test_unchanged_rescan_writes_no_asset_row(tenant_a):
    connector = synthetic(tenant_a, count=2000, regions={"aws": ["eu-west-1"]})
    scan(connector)
    with CaptureQueriesContext(connection) as queries:
        second = scan(connector)
    assert (second.status, second.unchanged) == ("succeeded", 2000)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    asset_writes = [sql for sql in writes if '"inventory_asset"' in sql or "inventory_asset " in sql]
    assert asset_writes == []  # an unchanged machine costs a read, not a row update (ADR 026)
    assert not any("inventory_assetedge" in sql or "inventory_assetpresence" in sql for sql in writes)
    sightings = [sql for sql in writes if "inventory_scopesighting" in sql]
    assert len(sightings) == 1  # one per scope and scan


def test_environment_and_site_are_mapped_from_tags_and_region(tenant_a, envs, sites):
    scan(synthetic(tenant_a))
    assert Asset.objects.filter(environment__isnull=True).count() == 0
    for asset in Asset.objects.select_related("environment", "site"):
        assert asset.environment.slug == asset.tags["Environment"]
        assert asset.site == (sites["aws-eu"] if asset.region == "eu-west-1" else sites["aws-us"])


def test_changed_assets_are_updated_and_vanished_ones_soft_removed(tenant_a):
    connector = synthetic(tenant_a, count=40)
    scan(connector)
    connector = connector_update(
        actor=None, connector=connector, config={**connector.config, "count": 30, "stopped_ratio": 0.5}
    )
    run = scan(connector)
    assert run.status == "succeeded"
    assert run.removed == 10 and run.discovered == 30
    assert run.updated + run.unchanged == 30 and run.updated > 0
    assert Asset.objects.filter(removed_at__isnull=False).count() == 10
    assert Asset.objects.count() == 40  # history stays


def test_a_failed_scope_removes_nothing_until_a_later_full_success(tenant_a):
    connector = synthetic(tenant_a, count=40)
    scan(connector)
    failing = "aws-000/us-east-1"
    connector = connector_update(
        actor=None, connector=connector, config={**connector.config, "count": 20, "fail_scopes": [failing]}
    )
    partial = scan(connector)
    assert partial.status == "partial"
    assert partial.failed_scopes == [failing]
    assert partial.scopes[failing] == {"status": "failed", "discovered": 0, "error": "simulated failure (fail_scopes)"}
    assert failing in partial.error
    assert Asset.objects.filter(region="us-east-1", removed_at__isnull=False).count() == 0
    assert Asset.objects.filter(region="eu-west-1", removed_at__isnull=False).count() == 10
    connector = connector_update(actor=None, connector=connector, config={**connector.config, "fail_scopes": []})
    full = scan(connector)
    assert full.status == "succeeded" and full.removed == 10
    assert Asset.objects.filter(region="us-east-1", removed_at__isnull=False).count() == 10


def test_every_scope_failing_fails_the_run(tenant_a):
    connector = synthetic(tenant_a, fail_scopes=["aws-000/eu-west-1", "aws-000/us-east-1"])
    run = scan(connector)
    assert run.status == "failed" and run.discovered == 0


def test_unresolvable_credential_fails_the_run_readably_and_keeps_inventory(tenant_a, monkeypatch):
    connector = synthetic(tenant_a)
    scan(connector)
    connector = connector_update(actor=None, connector=connector, credential_ref="env:QLRF_TEST_MISSING_SECRET")
    monkeypatch.delenv("QLRF_TEST_MISSING_SECRET", raising=False)
    run = scan(connector)
    assert run.status == "failed"
    assert run.error == "credential reference: environment variable QLRF_TEST_MISSING_SECRET is not set"
    assert Asset.objects.filter(removed_at__isnull=True).count() == 40


def test_assets_resolve_to_versions_through_regional_copies_and_azure_case(tenant_a, ubuntu_contract):
    v1 = register(
        tenant_a,
        ubuntu_contract,
        "1.0.0",
        artifacts=[
            {"platform": "aws", "image_ref": "ami-eu1", "region": "eu-west-1"},
            {"platform": "aws", "image_ref": "ami-us1", "region": "us-east-1"},  # the regional copy
            {
                "platform": "azure",
                "image_ref": "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/"
                "galleries/G/images/ubuntu/versions/1.0.0",
            },
        ],
    )
    connector = synthetic(
        tenant_a,
        count=60,
        unmanaged_ratio=0.2,
        regions={"aws": ["eu-west-1", "us-east-1"], "azure": ["westeurope"]},
        image_refs={
            "aws": [["ami-eu1", 1], ["ami-us1", 1]],
            "azure": [
                [
                    "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.compute/"
                    "galleries/g/images/UBUNTU/versions/1.0.0",
                    1,
                ]
            ],
        },
    )
    scan(connector)
    managed = Asset.objects.filter(image_version__isnull=False)
    unmanaged = Asset.objects.filter(image_version__isnull=True)
    assert managed.count() + unmanaged.count() == 60
    assert unmanaged.count() > 0
    assert all(ref.startswith("unregistered-") for ref in unmanaged.values_list("image_ref", flat=True))
    assert set(managed.values_list("image_version", flat=True)) == {v1.pk}
    assert set(managed.values_list("platform", flat=True)) == {"aws", "azure"}


def test_one_scan_per_connector_at_a_time(tenant_a):
    from apps.inventory.services import ScanInProgress, scan_create

    connector = synthetic(tenant_a)
    scan_create(actor=None, connector=connector, trigger="api")
    with pytest.raises(ScanInProgress):
        scan_create(actor=None, connector=connector, trigger="api")
    assert ScanRun.objects.filter(connector=connector).count() == 1
