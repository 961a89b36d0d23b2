"""The vSphere connector against vcsim: exact images, assets, sites, folders and edges of the fleet in conftest."""

from __future__ import annotations

from typing import Any

import pytest

from apps.inventory.connectors.base import AssetEdge, DiscoveredAsset, ScopeFailed
from apps.inventory.connectors.vsphere import VsphereConnector

ALL_SOURCES = ["extra_config", "annotation", "custom_attribute", "content_library"]
TEMPLATE = "42000000-0000-4000-8000-00000000a001"


def make_connector(vcsim: tuple[str, int], fleet: dict[str, str], **config: Any) -> VsphereConnector:
    host, port = vcsim
    vcenter = {"host": host, "port": port, "user": fleet["user"], "verify_ssl": False, **config.pop("vcenter", {})}
    return VsphereConnector({"vcenters": [vcenter], **config}, fleet["password"])


def scan(connector: VsphereConnector) -> dict[str, DiscoveredAsset]:
    (scope,) = connector.scopes()
    return {asset.name: asset for asset in connector.iter_assets(scope)}


@pytest.fixture(scope="module")
def assets(vcsim: tuple[str, int], fleet: dict[str, str]) -> dict[str, DiscoveredAsset]:
    return scan(make_connector(vcsim, fleet, version_sources=ALL_SOURCES))


def test_scope_and_test_connection(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = make_connector(vcsim, fleet)
    assert [scope.key for scope in connector.scopes()] == [f"127.0.0.1:{vcsim[1]}"]
    assert connector.test_connection() == f"vCenter 6.5.0 at 127.0.0.1:{vcsim[1]}"


def test_every_vm_with_instance_id_state_version_site_and_folder(
    assets: dict[str, DiscoveredAsset], fleet: dict[str, str]
) -> None:
    table = {
        name: (a.instance_id, a.state, a.image_ref, a.image_version, a.region, a.site_hint, a.group_ref)
        for name, a in assets.items()
    }
    assert table == {
        "web-1": (fleet["uuid:web-1"], "running", TEMPLATE, "2024.06.1", "DC0", "DC0/DC0_C0", "/DC0/vm/prod"),
        "web-2": (fleet["uuid:web-2"], "running", TEMPLATE, "2024.07.2", "DC0", "DC0/DC0_C0", "/DC0/vm/prod"),
        "db-1": (
            fleet["uuid:db-1"],
            "stopped",
            "vsphere:ubuntu-22.04@2024.06.1",
            "2024.06.1",
            "DC0",
            "DC0/DC0_C0",
            "/DC0/vm/prod",
        ),
        "batch-1": (
            fleet["uuid:batch-1"],
            "suspended",
            "vsphere:rhel-9@9.4.20240601",
            "9.4.20240601",
            "DC0",
            "DC0",
            "/DC0/vm/prod/batch",
        ),
        "mixed-1": (
            fleet["uuid:mixed-1"],
            "running",
            "vsphere:debian-12@12.5.0",
            "12.5.0",
            "DC0",
            "DC0/DC0_C0",
            "/DC0/vm/prod",
        ),
        "legacy-1": (fleet["uuid:legacy-1"], "running", "", "", "DC1", "DC1/DC1_C0", "/DC1/vm"),
        "ca-1": (
            fleet["uuid:ca-1"],
            "running",
            "vsphere:windows-2022@2022.11.0",
            "2022.11.0",
            "DC1",
            "DC1/DC1_C0",
            "/DC1/vm",
        ),
        "lib-1": (fleet["uuid:lib-1"], "running", fleet["item_id"], "9.3.1", "DC1", "DC1/DC1_C0", "/DC1/vm"),
    }
    assert {a.platform for a in assets.values()} == {"vsphere"}
    assert fleet["uuid:web-1"] == "42000000-0000-4000-8000-000000000001"


def test_version_source_recorded(assets: dict[str, DiscoveredAsset]) -> None:
    sources = {name: asset.extra["version_source"] for name, asset in assets.items()}
    assert sources == {
        "web-1": "extra_config",  # inherited from the template's extraConfig
        "web-2": "annotation",  # the VM's own annotation beats the template
        "db-1": "annotation",
        "batch-1": "extra_config",
        "mixed-1": "extra_config",  # extra_config is listed before annotation
        "legacy-1": "",
        "ca-1": "custom_attribute",
        "lib-1": "content_library",
    }


def test_edges_folder_template_and_library_item(assets: dict[str, DiscoveredAsset], fleet: dict[str, str]) -> None:
    web1, lib1, db1 = assets["web-1"], assets["lib-1"], assets["db-1"]
    assert web1.edges == (
        AssetEdge("instance", fleet["uuid:web-1"], "group", "/DC0/vm/prod", "member_of"),
        AssetEdge("instance", fleet["uuid:web-1"], "template", TEMPLATE, "cloned_from"),
    )
    assert lib1.edges == (
        AssetEdge("instance", fleet["uuid:lib-1"], "group", "/DC1/vm", "member_of"),
        AssetEdge("instance", fleet["uuid:lib-1"], "image", fleet["item_id"], "deployed_from"),
    )
    assert db1.edges == (AssetEdge("instance", fleet["uuid:db-1"], "group", "/DC0/vm/prod", "member_of"),)
    cloned = sorted(name for name, a in assets.items() if any(e.label == "cloned_from" for e in a.edges))
    assert cloned == ["web-1", "web-2"]
    assert web1.extra["template_found"] is True


def test_placement_details_and_custom_attribute_tags(assets: dict[str, DiscoveredAsset]) -> None:
    assert assets["batch-1"].extra["host"] == "DC0_H0"  # the standalone host: no cluster, so site = datacenter
    assert assets["web-1"].extra["cluster"] == "DC0_C0"
    assert assets["web-1"].extra["moid"].startswith("vm-")
    assert assets["ca-1"].tags == {"qlrf.image.version": "2022.11.0", "qlrf.image.family": "windows-2022"}
    assert assets["web-1"].tags == {}


def test_images_are_templates_and_library_items(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = make_connector(vcsim, fleet, version_sources=ALL_SOURCES)
    (scope,) = connector.scopes()
    images = list(connector.iter_images(scope))
    assert [(i.image_ref, i.name, i.family, i.version, i.region, i.state) for i in images] == [
        (TEMPLATE, "ubuntu-22.04-golden", "ubuntu-22.04", "2024.06.1", "DC0", "available"),
        (fleet["item_id"], "rocky-9", "rocky-9", "9.3.1", "", "available"),
    ]
    template, item = images
    assert template.extra["name"] == "ubuntu-22.04-golden"
    assert template.extra["moid"].startswith("vm-")
    assert template.extra["folder"] == "/DC0/vm/templates"
    assert template.account == f"127.0.0.1:{vcsim[1]}"
    assert item.extra == {
        "kind": "content_library_item",
        "item_type": "ovf",
        "library_id": fleet["library_id"],
        "library_name": "golden",
    }
    assert item.created_at.startswith("20")


def test_default_sources_skip_custom_attributes_and_libraries(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = make_connector(vcsim, fleet)
    by_name = scan(connector)
    assert (by_name["ca-1"].image_ref, by_name["ca-1"].image_version) == ("", "")
    assert (by_name["lib-1"].image_ref, by_name["lib-1"].image_version) == ("", "")
    assert by_name["web-2"].image_version == "2024.07.2"
    assert [image.image_ref for image in connector.iter_images(connector.scopes()[0])] == [TEMPLATE]


def test_source_order_decides(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    by_name = scan(make_connector(vcsim, fleet, version_sources=["annotation", "extra_config"]))
    assert by_name["mixed-1"].image_version == "12.6.0"
    assert by_name["mixed-1"].image_ref == "vsphere:debian-12@12.6.0"
    custom_key = {"source": "extra_config", "version_key": "qlrf.image.family", "family_key": "absent"}
    by_name = scan(make_connector(vcsim, fleet, version_sources=[custom_key]))
    assert (by_name["batch-1"].image_version, by_name["batch-1"].image_ref) == ("rhel-9", "")


def test_site_from_datacenter(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    by_name = scan(make_connector(vcsim, fleet, site_from="datacenter"))
    assert {name: a.site_hint for name, a in by_name.items()} == {
        "web-1": "DC0", "web-2": "DC0", "db-1": "DC0", "batch-1": "DC0", "mixed-1": "DC0",
        "legacy-1": "DC1", "ca-1": "DC1", "lib-1": "DC1",
    }  # fmt: skip


def test_datacenter_filter(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = make_connector(vcsim, fleet, vcenter={"datacenters": ["DC1"]})
    assert sorted(scan(connector)) == ["ca-1", "legacy-1", "lib-1"]
    assert list(connector.iter_images(connector.scopes()[0])) == []


def test_unknown_datacenter_fails_the_scope(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = make_connector(vcsim, fleet, vcenter={"datacenters": ["DC1", "DC9"]})
    with pytest.raises(ScopeFailed) as failed:
        scan(connector)
    assert failed.value.reason == f"datacenter(s) not found on 127.0.0.1:{vcsim[1]}: DC9"
