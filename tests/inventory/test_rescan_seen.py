"""An unchanged machine costs a read, not a row update (ADR 026): what a re-scan writes, and what readers still show.

The unchanged rows keep their stored ``last_seen``; a scope that succeeded moves its ``ScopeSighting``; the effective
last sighting, staleness (now and as of an instant), removal and the guard's confirmation must stay exact.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from apps.drift.engine import fleet_at
from apps.events.models import OutboxEvent
from apps.evidence.reports.csv_exports import asset_export
from apps.inventory.models import Asset, AssetPresence, ScanRun, ScopeSighting
from apps.inventory.services import connector_update, scan_removal_confirm, scan_run_now
from apps.inventory.services.seen import Sightings
from tests.conftest import client_for
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db

EU, US = "aws-000/eu-west-1", "aws-000/us-east-1"


def scan(connector, **config) -> ScanRun:
    if config:
        connector = connector_update(actor=None, connector=connector, config={**connector.config, **config})
    return scan_run_now(actor=None, connector=connector, trigger="cli")


def asset_updates(queries) -> list[str]:
    """The UPDATE/INSERT statements that wrote rows of inventory_asset (not its stage table)."""
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    return [sql for sql in writes if '"inventory_asset"' in sql or "inventory_asset " in sql]


def stale_ids(organization, at=None) -> set[str]:
    at = at or timezone.now()
    return set(fleet_at(organization, at).filter(stale=True).values_list("instance_id", flat=True))


def ids_of(connector, scope_key: str) -> set[str]:
    return set(Asset.objects.filter(connector=connector, scope_key=scope_key).values_list("instance_id", flat=True))


def effective(organization) -> dict[str, object]:
    sightings = Sightings([organization.pk])
    return {a.instance_id: sightings.last_seen(a) for a in Asset.objects.filter(organization=organization)}


def test_unchanged_rescan_updates_no_asset_row_yet_api_csv_admin_show_the_new_last_seen(tenant_a, client):
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=6)
    first = scan(connector)
    with CaptureQueriesContext(connection) as queries:
        second = scan(connector)
    assert (second.status, second.unchanged, second.new, second.updated) == ("succeeded", 6, 0, 0)
    assert asset_updates(queries) == []
    assert set(Asset.objects.values_list("last_seen", flat=True)) == {first.started_at}  # the rows were not written
    assert set(ScopeSighting.objects.values_list("scope_key", "seen_at", "scan_id")) == {
        (EU, second.started_at, second.pk),
        (US, second.started_at, second.pk),
    }

    expected = serializers.DateTimeField().to_representation(second.started_at)
    api = client_for(tenant_a.users["viewer"]).get("/api/v1/assets/").json()
    rows = api["results"] if isinstance(api, dict) else api
    assert len(rows) == 6 and {row["last_seen"] for row in rows} == {expected}
    detail = client_for(tenant_a.users["viewer"]).get(f"/api/v1/assets/{rows[0]['id']}/").json()
    assert detail["last_seen"] == expected

    export = asset_export(organization, user=tenant_a.users["viewer"], params={})
    column = export.header.index("last_seen")
    assert {row[column] for row in export.rows} == {second.started_at}

    client.force_login(tenant_a.users["admin"])
    response = client.get(reverse("admin:inventory_asset_changelist"))
    assert response.status_code == 200
    assert {a.seen_last for a in response.context["cl"].result_list} == {second.started_at}

    portal = client.get(reverse("inventory:asset-detail", args=[rows[0]["id"]]))
    assert portal.status_code == 200
    assert portal.context["asset"].last_seen == second.started_at
    assert portal.context["asset"].last_scan_id == second.pk
    assert Asset.objects.get(pk=rows[0]["id"]).last_seen == first.started_at  # shown, never saved


def test_two_scopes_one_fails_next_scan_exactly_its_assets_are_stale(tenant_a):
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=8)
    first = scan(connector)
    assert stale_ids(organization) == set()
    second = scan(connector, fail_scopes=[US])
    assert (second.status, second.failed_scopes) == ("partial", [US])
    assert ids_of(connector, US) and stale_ids(organization) == ids_of(connector, US)
    seen = effective(organization)
    assert {seen[i] for i in ids_of(connector, EU)} == {second.started_at}
    assert {seen[i] for i in ids_of(connector, US)} == {first.started_at}
    third = scan(connector, fail_scopes=[])
    assert third.status == "succeeded"
    assert stale_ids(organization) == set()


def test_as_of_stale_between_two_scans(tenant_a):
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=8)
    first = scan(connector)
    second = scan(connector, fail_scopes=[EU])
    third = scan(connector, fail_scopes=[])
    assert first.finished_at < second.started_at and second.finished_at < third.started_at
    assert stale_ids(organization, first.finished_at) == set()
    assert stale_ids(organization, second.finished_at) == ids_of(connector, EU)  # between the second and the third
    assert stale_ids(organization, third.finished_at) == set()


def test_suspect_scope_the_withheld_stay_stale_the_seen_do_not(tenant_a):
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=4, regions={"aws": ["eu-west-1"]})
    first = scan(connector)
    second = scan(connector, count=1)  # 3 of 4 vanished: withheld (ADR 009)
    assert (second.status, second.suspect_scopes, second.removed) == ("partial", [EU], 0)
    kept = "aws-aws-000-eu-west-1-0000000"
    vanished = ids_of(connector, EU) - {kept}
    assert len(vanished) == 3
    assert stale_ids(organization) == vanished
    seen = effective(organization)
    assert seen[kept] == second.started_at
    assert {seen[i] for i in vanished} == {first.started_at}
    assert Asset.objects.filter(removed_at__isnull=False).count() == 0


def test_confirm_after_a_later_complete_scan_that_saw_the_machines_removes_nothing(tenant_a):
    connector = synthetic(tenant_a, count=4, regions={"aws": ["eu-west-1"]})
    first = scan(connector)
    suspect = scan(connector, count=1)
    assert suspect.suspect_scopes == [EU]
    later = scan(connector, count=4)  # the machines are back, unchanged: not written, the scope seen complete
    assert (later.status, later.unchanged, later.removed) == ("succeeded", 4, 0)
    # three rows still say "last written by the first scan", before the suspect run: only the sighting saves them
    assert sorted(Asset.objects.values_list("last_seen", flat=True)) == [first.started_at] * 3 + [suspect.started_at]

    confirmed = scan_removal_confirm(actor=None, run=suspect)

    assert confirmed.scopes[EU]["removed"] == 0
    assert Asset.objects.filter(connector=connector, removed_at__isnull=True).count() == 4
    assert not OutboxEvent.objects.filter(type="asset.removed").exists()


def test_confirm_without_a_later_complete_scan_removes_only_the_unseen(tenant_a):
    connector = synthetic(tenant_a, count=4, regions={"aws": ["eu-west-1"]})
    scan(connector)
    suspect = scan(connector, count=1)
    again = scan(connector, count=1)  # suspect again: its seen machine is written seen, the others not
    assert again.suspect_scopes == [EU]

    scan_removal_confirm(actor=None, run=suspect)

    assert set(Asset.objects.filter(removed_at__isnull=True).values_list("instance_id", flat=True)) == {
        "aws-aws-000-eu-west-1-0000000"
    }
    assert set(Asset.objects.filter(removed_at__isnull=False).values_list("removed_at", flat=True)) == {
        suspect.started_at
    }


def test_a_vanished_machine_is_removed_once_with_its_interval_closed_and_its_last_sighting_kept(tenant_a):
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=4, regions={"aws": ["eu-west-1"]})
    scan(connector)
    second = scan(connector)  # unchanged: not written, seen through the sighting
    third = scan(connector, count=3)  # one vanishes (25 %: removed at once)
    fourth = scan(connector)
    assert (third.status, third.removed, fourth.removed) == ("succeeded", 1, 0)
    gone = Asset.objects.get(removed_at__isnull=False)
    assert gone.instance_id == "aws-aws-000-eu-west-1-0000003"
    assert (gone.removed_at, gone.last_seen, gone.last_scan_id) == (third.started_at, second.started_at, second.pk)
    assert effective(organization)[gone.instance_id] == second.started_at
    presences = AssetPresence.objects.filter(asset=gone)
    assert [(p.seen_until,) for p in presences] == [(third.started_at,)]
    assert [e.payload["count"] for e in OutboxEvent.objects.filter(type="asset.removed")] == [1]
    assert gone.instance_id not in stale_ids(organization)
    assert gone.instance_id not in set(fleet_at(organization, timezone.now()).values_list("instance_id", flat=True))
    assert gone.instance_id in set(fleet_at(organization, second.finished_at).values_list("instance_id", flat=True))


def test_a_failed_scope_keeps_the_batches_it_read_seen(tenant_a, monkeypatch):
    """A scope cut short after some batches: what it read stays seen (written), the rest is stale, nothing removed."""
    from apps.inventory.connectors import synthetic as synthetic_module
    from apps.inventory.connectors.base import ScopeFailed
    from apps.inventory.services import sync

    monkeypatch.setattr(sync, "BATCH_SIZE", 2)
    organization = tenant_a.organization
    connector = synthetic(tenant_a, count=5, regions={"aws": ["eu-west-1"]})
    scan(connector)
    original = synthetic_module.SyntheticConnector.iter_assets

    def cut_short(self, scope):
        for index, asset in enumerate(original(self, scope)):
            if index == 3:
                raise ScopeFailed(scope, "cut short")
            yield asset

    monkeypatch.setattr(synthetic_module.SyntheticConnector, "iter_assets", cut_short)
    second = scan(connector)
    assert (second.status, second.failed_scopes, second.removed) == ("failed", [EU], 0)  # its only scope
    read = {f"aws-aws-000-eu-west-1-000000{i}" for i in range(2)}  # the one full batch written before the failure
    assert set(Asset.objects.filter(last_seen=second.started_at).values_list("instance_id", flat=True)) == read
    assert stale_ids(organization) == ids_of(connector, EU) - read
