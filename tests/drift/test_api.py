"""Drift API and CLI: live reports, immutable as-of answers from snapshots, the outdated list, the trend, bad input."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.drift.models import DriftSnapshot, DriftSnapshotAsset
from apps.drift.services import drift_snapshot_write, drift_snapshots_expire
from apps.events.models import OutboxEvent
from apps.images.services import channel_promote, image_version_revoke
from apps.inventory.services import scan_run_now
from qlrf.cli import main
from tests.conftest import client_for
from tests.factories.images import register
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(tenant_a, envs, ubuntu_contract, django_capture_on_commit_callbacks):
    """20 machines on 1.0.0 (golden in prod) in eu-west-1 prod/dev."""
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    channel_promote(actor=None, version=v1, environment=envs["prod"])
    connector = synthetic(
        tenant_a, count=20, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    with django_capture_on_commit_callbacks(execute=True):  # the after-scan snapshot is queued on commit
        scan_run_now(actor=None, connector=connector, trigger="cli")
    return {"v1": v1, "v2": v2, "connector": connector}


def test_live_report_and_snapshot_after_scan(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    body = client.get(reverse("drift-report"), {"env": "prod"}).json()
    assert body["source"] == "live"
    assert body["total"]["coverage_pct"] == 100.0 and body["total"]["rag"] == "green"
    assert [(r["environment"], r["platform"], r["total_assets"]) for r in body["reports"]] == [("prod", "aws", 20)]
    assert DriftSnapshot.objects.filter(organization=tenant_a.organization, trigger="scan").count() == 1


def test_as_of_answers_are_unchanged_by_later_promotions_scans_and_revocations(tenant_a, fleet, envs):
    client = client_for(tenant_a.users["viewer"])
    snapshot = DriftSnapshot.objects.get()
    with pytest.raises(TypeError):  # history is append-only
        DriftSnapshot.objects.filter(pk=snapshot.pk).update(taken_at=timezone.now())
    # date the scan's snapshot two days back (raw SQL: only a test may rewrite history)
    past = timezone.now() - datetime.timedelta(days=2)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE drift_driftsnapshot SET taken_at = %s WHERE id = %s", [past, snapshot.pk])
    day = (past.date()).isoformat()
    before = client.get(reverse("drift-report"), {"as_of": day}).json()
    assert before["source"] == "snapshot" and before["total"]["coverage_pct"] == 100.0
    # later: a promotion, a revocation and another scan
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    image_version_revoke(actor=None, version=fleet["v1"], reason="CVE")
    drift_snapshot_write(organization=tenant_a.organization, trigger="manual")
    scan_run_now(actor=None, connector=fleet["connector"], trigger="cli")
    live = client.get(reverse("drift-report")).json()
    assert live["total"]["coverage_pct"] == 0.0 and live["total"]["outdated_count"] == 20
    after = client.get(reverse("drift-report"), {"as_of": day}).json()
    assert after == before
    events = OutboxEvent.objects.filter(type="drift.threshold.crossed").order_by("occurred_at")
    assert [(e.payload["environment"], e.payload["from_rag"], e.payload["to_rag"]) for e in events] == [
        ("prod", None, "green"),
        ("prod", "green", "red"),
    ]


def test_outdated_list_is_paged_and_sorted(tenant_a, fleet, envs):
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    client = client_for(tenant_a.users["viewer"])
    page = client.get(reverse("drift-outdated"), {"limit": 5}).json()
    assert page["count"] == 20 and len(page["results"]) == 5
    row = page["results"][0]
    assert (row["version"], row["baseline"], row["reason"], row["days_behind"]) == (
        "ubuntu-2204-base@1.0.0",
        "ubuntu-2204-base@1.1.0",
        "behind",
        0,
    )


@pytest.mark.parametrize(
    ("params", "parameter", "status", "code"),
    [
        ({"env": "nope"}, "env", 400, "invalid_parameter"),
        ({"platform": "ibm"}, "platform", 400, "invalid_parameter"),
        ({"site": "mars"}, "site", 400, "invalid_parameter"),
        ({"as_of": "yesterday"}, "as_of", 400, "invalid_as_of"),
        ({"as_of": "2999-01-01"}, "as_of", 400, "as_of_in_future"),
        ({"as_of": "2001-01-01"}, "as_of", 404, "no_snapshot_before"),
    ],
)
def test_bad_parameters_are_4xx_naming_the_parameter(tenant_a, fleet, params, parameter, status, code):
    response = client_for(tenant_a.users["viewer"]).get(reverse("drift-report"), params)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["path"] == f"/query/{parameter}"


def test_another_tenant_gets_nothing(tenant_a, tenant_b, fleet):
    client = client_for(tenant_b.users["admin"])
    response = client.get(reverse("drift-report"), {"organization": "alpha"})
    assert response.status_code == 404
    own = client.get(reverse("drift-report")).json()
    assert own["organization"] == "bravo" and own["total"]["total_assets"] == 0
    assert client.get(reverse("drift-outdated"), {"organization": "alpha"}).status_code == 404
    assert client_for(None).get(reverse("drift-report")).status_code in (401, 403)


def test_trend_from_snapshots(tenant_a, fleet, envs):
    drift_snapshot_write(organization=tenant_a.organization, trigger="manual")
    points = client_for(tenant_a.users["viewer"]).get(reverse("drift-trend"), {"env": "prod"}).json()
    today = timezone.now().date().isoformat()
    assert [(p["bucket"], p["environment"], p["coverage_pct"]) for p in points] == [(today, "prod", 100.0)]
    bad = client_for(tenant_a.users["viewer"]).get(reverse("drift-trend"), {"from": "2026-02-01", "to": "2026-01-01"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "/query/from"


def test_snapshot_keeps_outdated_assets_and_retention_expires_old_ones(tenant_a, fleet, envs, settings):
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    snapshot = drift_snapshot_write(organization=tenant_a.organization, trigger="manual")
    assert DriftSnapshotAsset.objects.filter(snapshot=snapshot).count() == 20
    later = timezone.now() + datetime.timedelta(days=settings.QLRF_DRIFT_RETENTION_DAYS + 1)
    assert DriftSnapshot.objects.count() == 2
    assert drift_snapshots_expire(now=later) >= 2
    assert DriftSnapshot.objects.count() == 0 and DriftSnapshotAsset.objects.count() == 0


def test_rf_drift_prints_and_refuses_bad_input(tenant_a, fleet, capsys):
    assert main(["drift", "--org", "alpha", "--env", "prod", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"]["total_assets"] == 20
    assert main(["drift", "--org", "alpha", "--env", "prod"]) == 0
    assert "prod        aws" in capsys.readouterr().out
    assert main(["drift", "--org", "alpha", "--env", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "rf: error: --env: unknown environment 'nope'"


def test_live_report_is_reused_until_something_it_depends_on_changes(tenant_a, fleet, envs, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("drift-report")).json()
    with CaptureQueriesContext(connection) as again:
        assert client.get(reverse("drift-report")).json() == first
    assert not any('"inventory_asset"' in q["sql"] and "GROUP BY" in q["sql"] for q in again.captured_queries)
    channel_promote(actor=None, version=fleet["v2"], environment=envs["prod"], grace_days=0)
    after = client.get(reverse("drift-report")).json()
    assert (first["total"]["outdated_count"], after["total"]["outdated_count"]) == (0, 20)
