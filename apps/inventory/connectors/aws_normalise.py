"""Pure parsers turning EC2/Auto Scaling API response dicts into the connector dataclasses.

No boto3 client is touched here, so recorded responses (placebo files, ``aws ec2 describe-* --output json``) can be
parsed directly, exactly as the live connector parses them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .base import AssetEdge, DiscoveredAsset, DiscoveredImage

__all__ = [
    "ASG_NAME_TAG",
    "FAMILY_TAG",
    "asg_membership",
    "copy_source",
    "image_state",
    "image_version",
    "normalise_image",
    "normalise_instance",
    "normalise_state",
    "tags_dict",
]

PLATFORM = "aws"
FAMILY_TAG = "Family"
ASG_NAME_TAG = "aws:autoscaling:groupName"
# EC2 instance states that still describe a machine of the fleet; shutting-down/terminated ones are gone.
_KEPT_STATES = frozenset({"pending", "running", "stopping", "stopped"})
_GONE_STATES = frozenset({"shutting-down", "terminated"})


def tags_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """Turn EC2's ``[{"Key": k, "Value": v}]`` list into a plain dict (a missing Value becomes "")."""
    return {str(tag["Key"]): str(tag.get("Value") or "") for tag in tags or () if "Key" in tag}


def normalise_state(raw_state: str) -> str | None:
    """Map an EC2 instance state name to the inventory vocabulary; ``None`` means "not an asset" (terminated)."""
    state = (raw_state or "").strip().lower()
    if state in _GONE_STATES:
        return None
    return state if state in _KEPT_STATES else "unknown"


def image_version(name: str, tags: Mapping[str, str], *, version_tag: str, name_pattern: re.Pattern[str] | None) -> str:
    """The image version from its version tag, else from the AMI name via the pattern's ``version`` group, else ""."""
    tagged = (tags.get(version_tag) or "").strip()
    if tagged:
        return tagged
    if name_pattern is None or not name:
        return ""
    match = name_pattern.search(name)
    if match is None:
        return ""
    return (match.groupdict().get("version") or "").strip()


def image_state(raw_state: str, deprecation_time: str, *, now: dt.datetime | None = None) -> str:
    """The AMI's state for compliance: an ``available`` AMI whose ``DeprecationTime`` has passed is ``deprecated``."""
    state = (raw_state or "").strip().lower()
    if state == "available" and deprecation_time:
        try:
            deprecated = dt.datetime.fromisoformat(deprecation_time.replace("Z", "+00:00"))
        except ValueError:
            return state
        if deprecated.tzinfo is None:
            deprecated = deprecated.replace(tzinfo=dt.UTC)
        if deprecated <= (now or dt.datetime.now(dt.UTC)):
            return "deprecated"
    return state


def copy_source(image: Mapping[str, Any]) -> tuple[str, str]:
    """(source AMI id, source region) of a CopyImage result: ``SourceImageId``/``SourceImageRegion`` when EC2 reports
    them, else the ``[Copied ami-… from region]`` description CopyImage's callers (console, CLI) write."""
    if image.get("SourceImageId"):
        return str(image["SourceImageId"]), str(image.get("SourceImageRegion") or "")
    match = _COPIED.search(str(image.get("Description") or ""))
    return (match["ami"], match["region"]) if match else ("", "")


_COPIED = re.compile(r"\[Copied (?P<ami>ami-[0-9a-f]+) from (?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)\]")


def normalise_image(
    image: Mapping[str, Any],
    *,
    account: str,
    region: str,
    version_tag: str = "Version",
    name_pattern: re.Pattern[str] | None = None,
    now: dt.datetime | None = None,
) -> DiscoveredImage:
    """One ``describe_images`` entry as a DiscoveredImage (a regional copy is its own image with its own id)."""
    tags = tags_dict(image.get("Tags"))
    name = str(image.get("Name") or "")
    extra = {
        key: image[field]
        for key, field in (
            ("owner_id", "OwnerId"),
            ("owner_alias", "ImageOwnerAlias"),
            ("architecture", "Architecture"),
            ("description", "Description"),
        )
        if image.get(field)
    }
    extra["public"] = bool(image.get("Public"))
    source_id, source_region = copy_source(image)
    if source_id:
        extra["source_image_id"], extra["source_image_region"] = source_id, source_region
    deprecation_time = _iso(image.get("DeprecationTime"))
    if deprecation_time:
        extra["deprecation_time"] = deprecation_time
    raw_state = str(image.get("State") or "")
    extra["raw_state"] = raw_state
    return DiscoveredImage(
        platform=PLATFORM,
        account=account,
        region=region,
        image_ref=str(image["ImageId"]),
        name=name,
        family=tags.get(FAMILY_TAG, ""),
        version=image_version(name, tags, version_tag=version_tag, name_pattern=name_pattern),
        created_at=_iso(image.get("CreationDate")),
        state=image_state(raw_state, deprecation_time, now=now),
        tags=tags,
        extra=extra,
    )


def asg_membership(groups: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Map instance id → Auto Scaling group name from ``describe_auto_scaling_groups`` entries."""
    return {
        str(member["InstanceId"]): str(group["AutoScalingGroupName"])
        for group in groups
        for member in group.get("Instances") or ()
        if member.get("InstanceId")
    }


def asg_launch_spec(group: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """What an Auto Scaling group launches from: ("template", id or name, version) or ("configuration", name, "").

    A mixed-instances policy names its template inside the policy; None when the group names neither.
    """
    template = group.get("LaunchTemplate") or (
        (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    ).get("LaunchTemplateSpecification")
    if template:
        ident = template.get("LaunchTemplateId") or template.get("LaunchTemplateName") or ""
        return ("template", str(ident), str(template.get("Version") or "$Default")) if ident else None
    if group.get("LaunchConfigurationName"):
        return ("configuration", str(group["LaunchConfigurationName"]), "")
    return None


def group_edges(group_ref: str, launch: tuple[str, str] | None) -> list[AssetEdge]:
    """group → template (uses_template) → image (launched_from), from the group's resolved (template ref, image)."""
    if not group_ref or not launch:
        return []
    template_ref, image_ref = launch
    edges = [AssetEdge("group", group_ref, "template", template_ref, "uses_template")]
    if image_ref:
        edges.append(AssetEdge("template", template_ref, "image", image_ref, "launched_from"))
    return edges


def normalise_instance(
    instance: Mapping[str, Any],
    *,
    account: str,
    region: str,
    asg_by_instance: Mapping[str, str],
    group_launch: Mapping[str, tuple[str, str]] | None = None,
) -> DiscoveredAsset | None:
    """One ``describe_instances`` instance as a DiscoveredAsset; ``None`` for terminated/shutting-down machines.

    ``group_launch`` maps an Auto Scaling group name to its (launch template ref, AMI) when the scan resolved it:
    the instance then carries the group → template → image edges too.
    """
    state = normalise_state(str((instance.get("State") or {}).get("Name") or ""))
    if state is None:
        return None
    instance_id = str(instance["InstanceId"])
    tags = tags_dict(instance.get("Tags"))
    image_ref = str(instance.get("ImageId") or "")
    group_ref = asg_by_instance.get(instance_id) or tags.get(ASG_NAME_TAG, "")
    edges: list[AssetEdge] = []
    if group_ref:
        edges.append(AssetEdge("instance", instance_id, "group", group_ref, "member_of"))
    if image_ref:
        edges.append(AssetEdge("instance", instance_id, "image", image_ref, "launched_from"))
    edges.extend(group_edges(group_ref, (group_launch or {}).get(group_ref)))
    extra = {"instance_type": instance.get("InstanceType") or ""}
    launch_time = _iso(instance.get("LaunchTime"))
    if launch_time:
        extra["launch_time"] = launch_time
    return DiscoveredAsset(
        platform=PLATFORM,
        account=account,
        region=region,
        instance_id=instance_id,
        name=tags.get("Name", ""),
        state=state,
        image_ref=image_ref,
        zone=str((instance.get("Placement") or {}).get("AvailabilityZone") or ""),
        site_hint=region,
        group_ref=group_ref,
        tags=tags,
        edges=tuple(edges),
        extra=extra,
    )


def _iso(value: Any) -> str:
    """A timestamp as ISO 8601: strings pass through, datetimes are formatted, anything else becomes ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return ""
