"""AzureConnector.iter_assets through the real ComputeManagementClient against the local HTTPS ARM fake."""

from __future__ import annotations

from collections import Counter

from apps.inventory.connectors.base import AssetEdge, Scope

SUB_A = "00000000-0000-0000-0000-0000000000aa"
GALLERY = f"/subscriptions/{SUB_A}/resourcegroups/rg-images/providers/microsoft.compute/galleries/goldgallery"
V100 = f"{GALLERY}/images/ubuntu-22/versions/1.0.0"
V110 = f"{GALLERY}/images/ubuntu-22/versions/1.1.0"
WEB_VMSS = f"/subscriptions/{SUB_A}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachinescalesets/web-vmss"
API_VMSS = f"/subscriptions/{SUB_A}/resourcegroups/rg-api/providers/microsoft.compute/virtualmachinescalesets/api-vmss"
FLEX_VMSS = (
    f"/subscriptions/{SUB_A}/resourcegroups/rg-flex/providers/microsoft.compute/virtualmachinescalesets/flex-vmss"
)


def _assets(fleet_a, make_connector):
    connector = make_connector()
    return {asset.name: asset for asset in connector.iter_assets(Scope(account=SUB_A))}


def test_every_machine_once_with_exact_versions(fleet_a, make_connector):
    assets = _assets(fleet_a, make_connector)

    assert sorted(assets) == ["api-vmss_3", "build-01", "db-01", "flex-01", "web-vmss_0", "web-vmss_1"]
    versions = {name: (a.image_ref, a.image_version, a.state) for name, a in assets.items()}
    assert versions == {
        "web-vmss_0": (V100, "1.0.0", "running"),
        "web-vmss_1": (V110, "1.1.0", "running"),
        "api-vmss_3": (V110, "1.1.0", "stopped"),
        "db-01": (V100, "1.0.0", "deallocated"),
        "flex-01": (V110, "1.1.0", "running"),
        "build-01": (
            "canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202601150",
            "22.04.202601150",
            "running",
        ),
    }
    for asset in assets.values():
        assert "latest" not in asset.image_ref
        assert asset.image_version != "latest"
        assert asset.platform == "azure"
        assert asset.account == SUB_A
        assert asset.region == "westeurope"


def test_latest_model_resolves_to_each_instance_exact_version(fleet_a, make_connector):
    assets = _assets(fleet_a, make_connector)
    web = [assets["web-vmss_0"], assets["web-vmss_1"]]

    assert [a.image_version for a in web] == ["1.0.0", "1.1.0"]
    assert [a.group_ref for a in web] == [WEB_VMSS, WEB_VMSS]
    assert web[0].instance_id == f"{WEB_VMSS}/virtualmachines/0"
    assert web[0].extra["scale_set"] == "web-vmss"
    assert web[0].extra["scale_set_instance_id"] == "0"
    assert web[0].extra["latest_model_applied"] is True
    assert web[0].extra["vm_size"] == "Standard_D2s_v3"
    assert web[0].tags == {"env": "prod"}


def test_definition_reference_and_case_variants_normalise_to_one_ref(fleet_a, make_connector):
    assets = _assets(fleet_a, make_connector)

    # api-vmss references the image *definition* in other letter case; db-01 a concrete version in mixed case.
    assert assets["api-vmss_3"].image_ref == assets["web-vmss_1"].image_ref == V110
    assert assets["db-01"].image_ref == assets["web-vmss_0"].image_ref == V100
    assert assets["api-vmss_3"].group_ref == API_VMSS
    assert assets["db-01"].extra["resource_group"] == "rg-db"
    assert assets["db-01"].extra["power_state"] == "PowerState/deallocated"
    assert assets["db-01"].zone == "2"
    assert assets["db-01"].group_ref == ""


def test_asset_graph_edges(fleet_a, make_connector):
    assets = _assets(fleet_a, make_connector)

    web0 = assets["web-vmss_0"]
    assert web0.edges == (
        AssetEdge("instance", web0.instance_id, "group", WEB_VMSS, "member_of"),
        AssetEdge("instance", web0.instance_id, "image", V100, "launched_from"),
    )
    flex = assets["flex-01"]
    assert flex.group_ref == FLEX_VMSS
    assert [e.label for e in flex.edges] == ["member_of", "launched_from"]
    db = assets["db-01"]
    assert db.edges == (AssetEdge("instance", db.instance_id, "image", V100, "launched_from"),)
    labels = Counter(edge.label for asset in assets.values() for edge in asset.edges)
    assert labels == {"member_of": 4, "launched_from": 6}


def test_requests_follow_next_links_and_ask_for_instance_view(fleet_a, make_connector):
    _assets(fleet_a, make_connector)

    web_vms = fleet_a.requests_to(
        f"/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/web-vmss/virtualMachines"
    )
    assert [r.args.get("$skiptoken") for r in web_vms] == [None, "1"]
    assert web_vms[0].args["$expand"] == "instanceView"
    assert web_vms[0].headers["Authorization"] == "Bearer test-arm-token"
    vms = fleet_a.requests_to(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachines")
    assert [(r.args.get("statusOnly"), r.args.get("$skiptoken")) for r in vms] == [
        (None, None),
        (None, "1"),
        ("true", None),
    ]
    # the flexible scale set's members are listed as VMs, never through the VMSS VM API
    flex_path = "/rg-flex/providers/Microsoft.Compute/virtualMachineScaleSets/flex-vmss/virtualMachines"
    assert not [r for r, _ in fleet_a.server.log if r.path.endswith(flex_path)]


def test_recorded_scale_set_vm_is_parsed(arm, make_connector, recorded):
    """The recorded VirtualMachineScaleSetVM GET body, served verbatim as the one member of a scale set."""
    body = recorded("VirtualMachineScaleSetVM_Get_WithUserData.json")
    vmss = {
        "id": f"/subscriptions/{SUB_A}/resourceGroups/myResourceGroup/providers/Microsoft.Compute"
        "/virtualMachineScaleSets/vmss3176",
        "name": "vmss3176",
        "location": "westus",
        "properties": {"orchestrationMode": "Uniform"},
    }
    arm.list(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachineScaleSets", [vmss])
    arm.list(
        f"/subscriptions/{SUB_A}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachineScaleSets/vmss3176/virtualMachines",
        [body],
    )
    arm.list(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachines", [])

    (asset,) = make_connector().iter_assets(Scope(account=SUB_A))

    instance = (
        "/subscriptions/{subscription-id}/resourcegroups/myresourcegroup/providers/microsoft.compute"
        "/virtualmachinescalesets/{vmss-name}/virtualmachines/0"
    )
    image = "microsoftwindowsserver:windowsserver:2012-r2-datacenter:4.127.20180315"
    group = f"/subscriptions/{SUB_A}/resourcegroups/myresourcegroup/providers/microsoft.compute"
    group += "/virtualmachinescalesets/vmss3176"
    assert (asset.instance_id, asset.name, asset.region, asset.state) == (
        instance,
        "{vmss-vm-name}",
        "westus",
        "unknown",
    )
    assert (asset.image_ref, asset.image_version) == (image, "4.127.20180315")
    assert asset.extra["latest_model_applied"] is True
    assert asset.extra["vm_id"] == "42af9fdf-b906-4ad7-9905-8316209ff619"
    assert asset.extra["resource_group"] == "myResourceGroup"
    assert asset.tags == {"myTag1": "tagValue1"}
    assert asset.edges == (
        AssetEdge("instance", instance, "group", group, "member_of"),
        AssetEdge("instance", instance, "image", image, "launched_from"),
    )


def test_asset_refs_match_gallery_image_refs_despite_case(fleet_a, galleries_a, make_connector):
    connector = make_connector(galleries=[{"resource_group": "rg-images", "gallery": "goldGallery"}])

    image_refs = {image.image_ref: image.version for image in connector.iter_images(Scope(account=SUB_A))}
    assets = list(connector.iter_assets(Scope(account=SUB_A)))

    gallery_assets = [a for a in assets if a.image_ref.startswith("/subscriptions/")]
    assert len(gallery_assets) == 5
    assert {a.name: image_refs[a.image_ref] for a in gallery_assets} == {
        "web-vmss_0": "1.0.0",
        "web-vmss_1": "1.1.0",
        "api-vmss_3": "1.1.0",
        "db-01": "1.0.0",
        "flex-01": "1.1.0",
    }
