"""Turn collected vSphere records (VMs, templates, content library items) into the connector dataclasses."""

from __future__ import annotations

from typing import Any

from apps.images.refs import canonical_uuid

from .base import AssetEdge, DiscoveredAsset, DiscoveredImage
from .vsphere_inventory import Placement, VmRecord
from .vsphere_versions import TEMPLATE_UUID_KEY, ImageVersion

PLATFORM = "vsphere"
POWER_STATES = {"poweredOn": "running", "poweredOff": "stopped", "suspended": "suspended"}


def site_hint(placement: Placement, site_from: str) -> str:
    """``datacenter/cluster`` for a VM in a cluster (``site_from="cluster"``), otherwise the datacenter name."""
    if site_from == "cluster" and placement.is_cluster and placement.cluster:
        return f"{placement.datacenter}/{placement.cluster}"
    return placement.datacenter


def template_image(account: str, vm: VmRecord, placement: Placement, version: ImageVersion | None) -> DiscoveredImage:
    """A VM template as an image; its stable ref is ``config.instanceUuid``."""
    return DiscoveredImage(
        platform=PLATFORM,
        account=account,
        region=placement.datacenter,
        image_ref=vm.instance_uuid,
        name=vm.name,
        family=version.family if version else "",
        version=version.version if version else "",
        state="available",
        tags=dict(vm.custom_values),
        extra={
            "kind": "template",
            "moid": vm.moid,
            "name": vm.name,
            "folder": placement.folder_path,
            "version_source": version.source if version else "",
        },
    )


def library_image(
    account: str, item: dict[str, Any], library: dict[str, Any], version: ImageVersion
) -> DiscoveredImage:
    """A content library item as an image; its ref is the item id (vCenter-wide, so no region)."""
    return DiscoveredImage(
        platform=PLATFORM,
        account=account,
        region="",
        image_ref=item["id"],
        name=item.get("name", ""),
        family=version.family,
        version=version.version,
        created_at=item.get("creation_time", ""),
        state="available",
        extra={
            "kind": "content_library_item",
            "item_type": item.get("type", ""),
            "library_id": library.get("id", ""),
            "library_name": library.get("name", ""),
        },
    )


def vm_asset(
    account: str,
    vm: VmRecord,
    placement: Placement,
    own: ImageVersion | None,
    templates: dict[str, ImageVersion | None],
    site_from: str,
) -> DiscoveredAsset:
    """A non-template VM as an asset, with its folder and template/library item edges."""
    instance_id = vm.instance_uuid or f"{account}/{vm.moid}"
    template_uuid = canonical_uuid(vm.extra_config.get(TEMPLATE_UUID_KEY, ""))  # UUIDs compare case-insensitively
    version = own if own is not None or not template_uuid else templates.get(template_uuid)
    edges = []
    if placement.folder_path:
        edges.append(AssetEdge("instance", instance_id, "group", placement.folder_path, "member_of"))
    if template_uuid:
        edges.append(AssetEdge("instance", instance_id, "template", template_uuid, "cloned_from"))
    elif own is not None and own.library_item:
        edges.append(AssetEdge("instance", instance_id, "image", own.library_item, "deployed_from"))
    extra: dict[str, Any] = {
        "moid": vm.moid,
        "host": placement.host,
        "cluster": placement.cluster,
        "folder_moid": placement.folder_moid,
        "version_source": version.source if version else "",
    }
    if template_uuid:
        extra["template_found"] = template_uuid in templates
    return DiscoveredAsset(
        platform=PLATFORM,
        account=account,
        region=placement.datacenter,
        instance_id=instance_id,
        name=vm.name,
        state=POWER_STATES.get(vm.power_state, "unknown"),
        image_ref=_image_ref(template_uuid, own),
        image_version=version.version if version else "",
        site_hint=site_hint(placement, site_from),
        group_ref=placement.folder_path,
        tags=dict(vm.custom_values),
        edges=tuple(edges),
        extra=extra,
    )


def _image_ref(template_uuid: str, own: ImageVersion | None) -> str:
    """The template's instanceUuid, else the library item id, else ``vsphere:<family>@<version>`` ("" if unknown)."""
    if template_uuid:
        return template_uuid
    if own is None:
        return ""
    if own.library_item:
        return own.library_item
    return f"vsphere:{own.family}@{own.version}" if own.family else ""
