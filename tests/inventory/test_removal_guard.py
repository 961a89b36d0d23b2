"""The removal guard (ADR 009): a scan that would remove most or all of a scope removes nothing until confirmed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.events.models import OutboxEvent
from apps.inventory.models import Asset, AssetPresence, ScanRun
from apps.inventory.services import connector_update, scan_run_now
from apps.tenancy.models import AuditEvent
from tests.conftest import client_for
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db

SCOPE = "aws-000/eu-west-1"


def fleet(tenant, count: int):
    return synthetic(tenant, name="guarded", count=count, regions={"aws": ["eu-west-1"]})


def rescan(connector, count: int) -> ScanRun:
    connector = connector_update(actor=None, connector=connector, config={**connector.config, "count": count})
    return scan_run_now(actor=None, connector=connector, trigger="cli")


def live(connector) -> int:
    return Asset.objects.filter(connector=connector, removed_at__isnull=True).count()


def test_exactly_half_removed_is_not_suspect(tenant_a):
    connector = fleet(tenant_a, 4)
    assert scan_run_now(actor=None, connector=connector, trigger="cli").status == "succeeded"

    run = rescan(connector, 2)

    assert (run.status, run.removed, run.suspect_scopes) == ("succeeded", 2, [])
    assert live(connector) == 2
    assert AssetPresence.objects.filter(asset__connector=connector, seen_until=run.started_at).count() == 2


def test_more_than_half_removed_is_withheld(tenant_a):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")

    run = rescan(connector, 1)

    assert (run.status, run.removed, run.suspect_scopes) == ("partial", 0, [SCOPE])
    assert run.scopes[SCOPE]["withheld"] == 3
    assert run.scopes[SCOPE]["live"] == 4
    assert run.error == f"{SCOPE}: would remove 3 of 4 live assets (75 % > 50 %): withheld until confirmed"
    assert live(connector) == 4
    assert not OutboxEvent.objects.filter(type="asset.removed").exists()


def test_all_removed_from_a_scope_of_four_is_withheld(tenant_a, settings):
    settings.QLRF_SCAN_REMOVAL_GUARD_PCT = 100  # the share alone would allow it: the "all of them" rule holds it
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")

    run = rescan(connector, 0)

    assert (run.status, run.removed, run.suspect_scopes) == ("partial", 0, [SCOPE])
    assert run.scopes[SCOPE]["error"] == (
        "would remove all 4 live assets of the scope (more than 3): withheld until confirmed"
    )
    assert live(connector) == 4


def test_all_removed_from_a_scope_of_three_is_allowed_with_the_share_raised(tenant_a, settings):
    settings.QLRF_SCAN_REMOVAL_GUARD_PCT = 100
    connector = fleet(tenant_a, 3)
    scan_run_now(actor=None, connector=connector, trigger="cli")

    run = rescan(connector, 0)

    assert (run.status, run.removed) == ("succeeded", 3)
    assert live(connector) == 0


def test_confirm_via_api_engineer_removes_and_audits(tenant_a):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    run = rescan(connector, 1)
    engineer = tenant_a.users["engineer"]

    response = client_for(engineer).post(f"/api/v1/scan-runs/{run.pk}/confirm-removal")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["removed"], body["suspect_scopes"], body["scopes"][SCOPE]["status"]) == (3, [], "succeeded")
    assert body["scopes"][SCOPE]["confirmed_by"] == engineer.get_username()
    assert live(connector) == 1
    removed = Asset.objects.filter(connector=connector, removed_at__isnull=False)
    assert {a.removed_at for a in removed} == {run.started_at}
    audit = AuditEvent.objects.get(action="inventory.scanrun.confirm_removal")
    assert (audit.actor, audit.changes["after"]["removed"]) == (engineer, {SCOPE: 3})
    event = OutboxEvent.objects.get(type="scan.removal_confirmed")
    assert event.payload["counts"] == {"removed": 3}
    assert OutboxEvent.objects.get(type="asset.removed").payload["count"] == 3

    again = client_for(engineer).post(f"/api/v1/scan-runs/{run.pk}/confirm-removal")
    assert again.status_code == 400
    assert "nothing_to_confirm" in again.content.decode()
    assert live(connector) == 1


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_confirm_refused_below_engineer(tenant_a, role):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    run = rescan(connector, 1)

    response = client_for(tenant_a.users[role]).post(f"/api/v1/scan-runs/{run.pk}/confirm-removal")

    assert response.status_code == 403
    assert live(connector) == 4
    assert not AuditEvent.objects.filter(action="inventory.scanrun.confirm_removal").exists()
    assert ScanRun.objects.get(pk=run.pk).suspect_scopes == [SCOPE]


def test_confirm_of_another_tenants_run_is_404(tenant_a, tenant_b):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    run = rescan(connector, 1)

    response = client_for(tenant_b.users["admin"]).post(f"/api/v1/scan-runs/{run.pk}/confirm-removal")

    assert response.status_code == 404
    assert live(connector) == 4


def test_a_machine_seen_again_after_the_suspect_scan_is_not_removed_by_confirming(tenant_a):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    suspect = rescan(connector, 1)
    later = rescan(connector, 3)  # three seen again; the fourth vanished (1 of 4 live): removed by this run
    assert (later.status, later.removed) == ("succeeded", 1)

    call_command("scan", "confirm-removal", str(suspect.pk))

    assert live(connector) == 3  # the two seen again stay; the one no scan has seen since was already gone


def test_cli_reports_the_suspect_scope_and_confirms(tenant_a, capsys):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    connector_update(actor=None, connector=connector, config={**connector.config, "count": 0})

    with pytest.raises(CommandError, match=f"^scan partial: {SCOPE}: would remove all 4 live assets of the scope"):
        call_command("scan", "alpha/guarded")
    out = capsys.readouterr().out
    run = ScanRun.objects.filter(connector=connector).first()
    assert f"suspect {SCOPE}: would remove all 4 live assets of the scope (more than 3): withheld" in out
    assert f"to confirm: rf scan confirm-removal {run.pk}" in out

    call_command("scan", "confirm-removal", str(run.pk))
    assert f"scan {run.pk}: removal confirmed — 4 asset(s) removed in total" in capsys.readouterr().out
    assert live(connector) == 0
    with pytest.raises(CommandError, match=f"^scan {run.pk} has no withheld removal to confirm$"):
        call_command("scan", "confirm-removal", str(run.pk))
    with pytest.raises(CommandError, match="^usage: rf scan confirm-removal RUN_ID"):
        call_command("scan", "confirm-removal", "abc")
    with pytest.raises(CommandError, match="^no scan run 999999$"):
        call_command("scan", "confirm-removal", "999999")


def test_scan_page_shows_the_withheld_removal(tenant_a):
    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    run = rescan(connector, 1)
    client = Client()
    client.force_login(tenant_a.users["viewer"])

    page = client.get(f"/scans/{run.pk}/").content.decode()

    assert "Removals withheld" in page
    assert "would remove 3 of 4 live assets (75 % &gt; 50 %): withheld until confirmed" in page
    assert f"rf scan confirm-removal {run.pk}" in page


def test_snapshot_after_a_suspect_scan_counts_the_withheld_assets(tenant_a):
    from apps.drift.models import DriftSnapshotRow
    from apps.drift.services import drift_snapshot_write

    connector = fleet(tenant_a, 4)
    scan_run_now(actor=None, connector=connector, trigger="cli")
    run = rescan(connector, 0)
    assert run.status == "partial"

    snapshot = drift_snapshot_write(organization=tenant_a.organization, trigger="scan", scan_run=run)

    assert sum(DriftSnapshotRow.objects.filter(snapshot=snapshot).values_list("total", flat=True)) == 4


def test_guard_settings_change_the_threshold(tenant_a, settings):
    settings.QLRF_SCAN_REMOVAL_GUARD_PCT = 20
    connector = fleet(tenant_a, 10)
    scan_run_now(actor=None, connector=connector, trigger="cli")

    assert (rescan(connector, 8).status, live(connector)) == ("succeeded", 8)  # 2 of 10 = 20 %: not above
    run = rescan(connector, 6)  # 2 of 8 = 25 %
    assert (run.status, run.removed, live(connector)) == ("partial", 0, 8)
