"""GCP assets of the acme fleet through the real compute_v1 clients: images, MIGs, templates, states, graph edges."""

from __future__ import annotations

import json

import pytest

from apps.inventory.connectors.base import AssetEdge, Scope, ScopeFailed

MIG_WEB = "projects/acme-prod/zones/us-central1-a/instanceGroupManagers/web-mig"
MIG_API = "projects/acme-prod/regions/us-central1/instanceGroupManagers/api-mig"
TMPL_WEB = "projects/acme-prod/global/instanceTemplates/web-tmpl"
TMPL_API = "projects/acme-prod/regions/us-central1/instanceTemplates/api-tmpl"
JAMMY_0110 = "projects/p/global/images/ubuntu-2204-jammy-v20240110"
JAMMY_0214 = "projects/p/global/images/ubuntu-2204-jammy-v20240214"
GOLDEN_API = "projects/acme-images/global/images/golden-api-v2-0-0"
GOLDEN_WEB_100 = "projects/acme-images/global/images/golden-web-v1-0-0"
GOLDEN_WEB_110 = "projects/acme-images/global/images/golden-web-v1-1-0"


def scan(make_connector):
    connector = make_connector(["acme-prod"], image_projects=["acme-images"])
    return {asset.name: asset for asset in connector.iter_assets(Scope("acme-prod"))}


def test_every_machine_of_the_project_is_an_asset_once(fleet, compute, make_connector):
    assets = scan(make_connector)

    assert sorted(assets) == ["api-1", "db-1", "fresh-1", "legacy-1", "restored-1", "web-1", "web-2"]
    assert {a.instance_id for a in assets.values()} == {fleet[name]["id"] for name in assets}
    assert {a.platform for a in assets.values()} == {"gcp"}
    assert {a.account for a in assets.values()} == {"acme-prod"}
    # 7 instances at 2 per page: 4 pages chained by nextPageToken; us-east1-b only ever said "no results"
    assert [q.get("pageToken", "") for _, path, q in compute.log if path.endswith("/aggregated/instances")] == [
        "",
        "2",
        "4",
        "6",
    ]
    assert all(a.zone != "us-east1-b" for a in assets.values())


def test_mig_on_an_image_family_reports_each_members_concrete_image(fleet, make_connector):
    assets = scan(make_connector)
    web1, web2 = assets["web-1"], assets["web-2"]

    assert (web1.image_ref, web2.image_ref) == (JAMMY_0110, JAMMY_0214)
    assert (web1.group_ref, web2.group_ref) == (MIG_WEB, MIG_WEB)
    assert web1.extra["template"] == TMPL_WEB
    assert web1.extra["template_source_image"] == "projects/p/global/images/family/ubuntu-2204"
    assert web1.extra["image_family"] == "ubuntu-2204"
    assert web1.edges == (
        AssetEdge("instance", fleet["web-1"]["id"], "group", MIG_WEB, "member_of"),
        AssetEdge("group", MIG_WEB, "template", TMPL_WEB, "uses_template"),
        AssetEdge("template", TMPL_WEB, "image", JAMMY_0110, "launched_from"),
        AssetEdge("instance", fleet["web-1"]["id"], "image", JAMMY_0110, "launched_from"),
    )
    assert web2.edges[2] == AssetEdge("template", TMPL_WEB, "image", JAMMY_0214, "launched_from")
    assert not [a.name for a in assets.values() if "/family/" in a.image_ref]
    assert not [e for a in assets.values() for e in a.edges if "/family/" in e.target_ref]


def test_web_asset_fields(fleet, make_connector):
    web1 = scan(make_connector)["web-1"]

    assert (web1.region, web1.zone, web1.site_hint, web1.state) == (
        "us-central1",
        "us-central1-a",
        "us-central1",
        "running",
    )
    assert web1.tags == {"app": "web", "env": "prod"}
    assert web1.extra["self_link"] == "projects/acme-prod/zones/us-central1-a/instances/web-1"
    assert web1.extra["machine_type"] == "e2-medium"
    assert web1.extra["status"] == "RUNNING"


def test_regional_mig_with_a_regional_template(fleet, compute, make_connector):
    api1 = scan(make_connector)["api-1"]

    assert (api1.region, api1.zone, api1.group_ref, api1.image_ref) == (
        "us-central1",
        "us-central1-b",
        MIG_API,
        GOLDEN_API,
    )
    assert api1.extra["source_image_id"] == fleet["golden-api-v2-0-0"]["id"]
    assert api1.edges == (
        AssetEdge("instance", fleet["api-1"]["id"], "group", MIG_API, "member_of"),
        AssetEdge("group", MIG_API, "template", TMPL_API, "uses_template"),
        AssetEdge("template", TMPL_API, "image", GOLDEN_API, "launched_from"),
        AssetEdge("instance", fleet["api-1"]["id"], "image", GOLDEN_API, "launched_from"),
    )
    assert compute.count(r"/regions/us-central1/instanceGroupManagers/api-mig/listManagedInstances$") == 1
    assert compute.count(r"/regions/us-central1/instanceTemplates/api-tmpl$") == 1
    assert compute.count(r"/acme-prod/global/instanceTemplates$") == 1  # listed once for both MIGs


def test_terminated_machine_is_a_stopped_asset(fleet, make_connector):
    db1 = scan(make_connector)["db-1"]

    assert (db1.state, db1.image_ref, db1.group_ref) == ("stopped", GOLDEN_WEB_100, "")
    assert db1.extra["status"] == "TERMINATED"
    assert db1.tags == {"role": "db"}
    assert db1.edges == (AssetEdge("instance", fleet["db-1"]["id"], "image", GOLDEN_WEB_100, "launched_from"),)


def test_disk_naming_a_family_is_resolved_through_its_source_image_id(fleet, compute, make_connector):
    legacy = scan(make_connector)["legacy-1"]

    assert (legacy.state, legacy.image_ref) == ("suspended", GOLDEN_WEB_110)
    assert legacy.extra["image_family"] == "golden-web"
    image_id = fleet["golden-web-v1-1-0"]["id"]
    lookups = [q for _, path, q in compute.log if path.endswith("/projects/acme-images/global/images")]
    assert lookups == [{"filter": f"id = {image_id}"}]


def test_disk_created_after_the_disk_listing_is_read_with_get(fleet, compute, make_connector):
    fresh = scan(make_connector)["fresh-1"]

    assert (fresh.state, fresh.image_ref) == ("running", GOLDEN_WEB_110)  # STAGING; a compute/beta URL normalised
    assert compute.count(r"/zones/us-central1-b/disks/fresh-1$") == 1
    assert compute.count(r"/disks/(web|api|db|legacy|restored)-1$") == 0  # the others came from aggregated/disks


def test_machine_restored_from_a_snapshot_has_no_image(fleet, make_connector):
    restored = scan(make_connector)["restored-1"]

    assert (restored.image_ref, restored.edges) == ("", ())
    assert restored.extra["source_snapshot"] == "projects/acme-prod/global/snapshots/db-snap"


def test_canary_member_uses_its_version_template(fleet, compute, make_connector):
    canary = compute.add_template(
        "acme-prod", "web-tmpl-canary", "projects/acme-images/global/images/golden-web-v1-1-0"
    )
    compute.set_members(fleet["web-mig"], [fleet["web-1"], fleet["web-2"]], {"web-2": canary["selfLink"]})

    web2 = scan(make_connector)["web-2"]

    canary_ref = "projects/acme-prod/global/instanceTemplates/web-tmpl-canary"
    assert web2.extra["template"] == canary_ref
    # the template names a concrete image: that is its launched_from target; the machine keeps its disk's image
    assert web2.edges[1:] == (
        AssetEdge("group", MIG_WEB, "template", canary_ref, "uses_template"),
        AssetEdge("template", canary_ref, "image", GOLDEN_WEB_110, "launched_from"),
        AssetEdge("instance", fleet["web-2"]["id"], "image", JAMMY_0214, "launched_from"),
    )


def test_image_only_project_has_no_assets(fleet, compute, make_connector):
    connector = make_connector(["acme-prod"], image_projects=["acme-images"])

    assert list(connector.iter_assets(Scope("acme-images"))) == []
    assert compute.log == []


def test_fingerprint_is_stable_across_scans(fleet, make_connector):
    first = {name: a.fingerprint() for name, a in scan(make_connector).items()}
    second = {name: a.fingerprint() for name, a in scan(make_connector).items()}

    assert first == second
    assert len(set(first.values())) == 7


def test_template_without_a_source_image(fleet, compute, make_connector):
    boot = compute.templates["acme-prod"][0]["properties"]["disks"][0]
    boot["initializeParams"] = {"sourceSnapshot": "global/snapshots/web-snap", "diskSizeGb": "10"}

    web1 = scan(make_connector)["web-1"]

    assert (web1.extra["template_source_image"], web1.extra["image_family"], web1.image_ref) == ("", "", JAMMY_0110)
    assert AssetEdge("template", TMPL_WEB, "image", JAMMY_0110, "launched_from") in web1.edges


def test_template_and_disk_gone_between_calls_do_not_fail_the_project(fleet, compute, make_connector):
    gone = "https://www.googleapis.com/compute/v1/projects/acme-prod/global/instanceTemplates/web-tmpl-old"
    compute.set_members(fleet["web-mig"], [fleet["web-1"], fleet["web-2"]], {"web-1": gone})
    compute.extra_disks.clear()  # fresh-1's boot disk is neither listed nor found any more

    assets = scan(make_connector)

    assert len(assets) == 7
    web1 = assets["web-1"]
    assert (web1.extra["template"], web1.extra["template_source_image"]) == (gone.split("v1/")[1], "")
    assert web1.image_ref == JAMMY_0110
    assert (assets["fresh-1"].image_ref, assets["fresh-1"].edges) == ("", ())
    assert compute.count(r"/global/instanceTemplates/web-tmpl-old$") == 1
    assert compute.count(r"/zones/us-central1-b/disks/fresh-1$") == 1


def test_unreachable_scope_in_the_page_list_fails_the_project(fleet, compute, make_connector):
    body = {
        "kind": "compute#instanceGroupManagerAggregatedList",
        "items": {"zones/us-central1-a": {"instanceGroupManagers": []}},
        "unreachables": ["zones/us-central1-f"],
    }
    compute.respond_raw(r"/aggregated/instanceGroupManagers", json.dumps(body))

    connector = make_connector(["acme-prod"])
    with pytest.raises(ScopeFailed) as caught:
        list(connector.iter_assets(Scope("acme-prod")))

    assert caught.value.reason == "the Compute API could not reach zones/us-central1-f"
