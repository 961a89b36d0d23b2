"""Scenario machines as each platform's connector would report them, through the connectors' own normalisers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.mgmt.compute.models import ImageReference

from apps.inventory.connectors.aws_normalise import normalise_instance
from apps.inventory.connectors.azure_parse import resolve_image_reference
from apps.inventory.connectors.base import BaseConnector, DiscoveredAsset, Scope, ScopeFailed
from apps.inventory.connectors.gcp_refs import image_ref_or_empty


def _azure_ref(image: dict) -> tuple[str, str]:
    reference = ImageReference(id=image["image_reference"]["id"])
    reference.exact_version = image["image_reference"].get("exact_version")  # read-only on the wire model
    resolved = resolve_image_reference(reference)
    return resolved.image_ref, resolved.version


def discovered(asset: dict) -> DiscoveredAsset | None:
    """One scenario machine → the DiscoveredAsset its platform's connector yields (None: not an asset)."""
    platform, image = asset["platform"], asset["image"]
    common = {
        "platform": platform,
        "account": asset["account"],
        "region": asset.get("region", ""),
        "instance_id": asset["id"],
        "name": asset["id"],
        "state": asset.get("state", "running"),
        "site_hint": asset.get("region", ""),
        "tags": {"Environment": asset["environment"]},
        "group_ref": asset.get("group", ""),
    }
    if platform == "aws":
        raw = {
            "InstanceId": asset["id"],
            "ImageId": image.get("image_id", ""),
            "State": {"Name": asset.get("state", "running")},
            "Tags": [{"Key": "Environment", "Value": asset["environment"]}],
        }
        group = asset.get("group", "")
        template = asset.get("template")
        return normalise_instance(
            raw,
            account=asset["account"],
            region=asset.get("region", ""),
            asg_by_instance={asset["id"]: group} if group else {},
            group_launch={group: (template["ref"], template.get("image_id", ""))} if group and template else {},
        )
    if platform == "azure":
        ref, version = _azure_ref(image)
        return DiscoveredAsset(**common, image_ref=ref, image_version=version)
    if platform == "gcp":
        # the instance template may name an image *family*; the boot disk records the concrete image
        return DiscoveredAsset(**common, image_ref=image_ref_or_empty(image.get("disk_source_image", "")))
    if "annotation" in image:
        family_version = image["annotation"].split("=", 1)[1]
        return DiscoveredAsset(**common, image_ref=f"vsphere:{family_version}")
    return DiscoveredAsset(**common, image_ref=image.get("image_ref", ""))


class ScenarioConnector(BaseConnector):
    """Feeds a scenario's machines into the real sync service, one scope per account; listed accounts fail."""

    slug = "scenario"
    label = "Labelled fleet scenario"

    def __init__(self, assets: list[dict], failing: set[str] = frozenset()):
        super().__init__({}, None)
        self.assets = assets
        self.failing = set(failing)

    def scopes(self) -> list[Scope]:
        return [Scope(account=account) for account in sorted({a["account"] for a in self.assets})]

    def test_connection(self) -> str:
        return "scenario"

    def iter_images(self, scope: Scope) -> Iterator[Any]:
        return iter(())

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        if scope.account in self.failing:
            raise ScopeFailed(scope, "scenario: this account's scope fails in the latest scan")
        for asset in self.assets:
            if asset["account"] == scope.account:
                machine = discovered(asset)
                if machine is not None:
                    yield machine
