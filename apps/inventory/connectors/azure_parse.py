"""Pure translation of Azure Compute SDK models into the connector dataclasses (no I/O, no client).

Kept apart from ``azure.py`` so the rules that cause false positives (ids differing in case, scale sets on
``versions/latest``, image references given as the image *definition*) live in one small, directly testable place.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from .base import AssetEdge, DiscoveredAsset, DiscoveredImage

PLATFORM = "azure"

# ``…/galleries/<g>/images/<definition>`` optionally followed by ``/versions/<version>``, for gallery, shared-gallery
# and community-gallery references alike (ARM is case-insensitive, so the match is too). A managed image
# (``…/Microsoft.Compute/images/<name>``) has no gallery segment and does not match.
_GALLERY_IMAGE_RE = re.compile(
    r"^(?P<definition_id>.*/(?:galleries|sharedgalleries|communitygalleries)/[^/]+/images/(?P<definition>[^/]+))"
    r"(?:/versions/(?P<version>[^/]+))?$",
    re.IGNORECASE,
)
_POWER_STATES = {
    "running": "running",
    "starting": "running",
    "stopped": "stopped",
    "stopping": "stopped",
    "deallocated": "deallocated",
    "deallocating": "deallocated",
}


def text(value: Any) -> str:
    """Return the plain string of an SDK value (str-mixin enums print as ``Enum.MEMBER`` under ``str()``)."""
    if value is None:
        return ""
    return value.value if isinstance(value, Enum) else str(value)


def normalise_resource_id(resource_id: str | None) -> str:
    """Return the comparable form of an ARM resource id: ARM ids are case-insensitive, so lower-case, no trailing /."""
    return (resource_id or "").strip().rstrip("/").lower()


def normalise_location(location: str | None) -> str:
    """Return ARM's canonical location name ("West US" -> "westus"), as VMs report it."""
    return (location or "").replace(" ", "").lower()


def resource_id_part(resource_id: str | None, key: str) -> str:
    """Return the segment after ``key`` in an ARM id (case-insensitive key, original-case value), or ""."""
    parts = (resource_id or "").strip("/").split("/")
    for index in range(len(parts) - 1):
        if parts[index].lower() == key.lower():
            return parts[index + 1]
    return ""


@dataclasses.dataclass(frozen=True)
class ResolvedImage:
    """The concrete image a machine runs: normalised ref, exact version, and whether it came from a gallery."""

    image_ref: str = ""
    version: str = ""
    unresolved: str = ""  # the raw reference when no concrete version could be established


def resolve_image_reference(reference: Any) -> ResolvedImage:
    """Turn an ``ImageReference`` into the concrete image; ``latest`` or a bare definition become ``exactVersion``."""
    if reference is None:
        return ResolvedImage()
    exact = reference.exact_version or ""
    raw_id = reference.id or reference.shared_gallery_image_id or reference.community_gallery_image_id or ""
    if raw_id:
        return _resolve_id_reference(raw_id, exact)
    if reference.publisher and reference.offer and reference.sku:
        version = exact or ("" if (reference.version or "").lower() == "latest" else reference.version or "")
        if not version:
            return ResolvedImage(unresolved=f"{reference.publisher}:{reference.offer}:{reference.sku}:latest")
        urn = f"{reference.publisher}:{reference.offer}:{reference.sku}:{version}"
        return ResolvedImage(image_ref=urn.lower(), version=version)
    return ResolvedImage()


def _resolve_id_reference(raw_id: str, exact: str) -> ResolvedImage:
    match = _GALLERY_IMAGE_RE.match(raw_id.strip().rstrip("/"))
    if match is None:  # a managed image (…/Microsoft.Compute/images/<name>) or something else concrete
        return ResolvedImage(image_ref=normalise_resource_id(raw_id), version=exact)
    version = match.group("version") or ""
    if version and version.lower() != "latest":
        return ResolvedImage(image_ref=normalise_resource_id(raw_id), version=version)
    if not exact:
        return ResolvedImage(unresolved=raw_id)
    concrete = f"{match.group('definition_id')}/versions/{exact}"
    return ResolvedImage(image_ref=normalise_resource_id(concrete), version=exact)


def power_state(statuses: Iterable[Any] | None) -> tuple[str, str]:
    """Return (normalised state, raw PowerState code) from instance-view statuses; ("unknown", "") without one."""
    for status in statuses or ():
        code = status.code or ""
        if code.lower().startswith("powerstate/"):
            raw = code.split("/", 1)[1].lower()
            return _POWER_STATES.get(raw, "unknown"), code
    return "unknown", ""


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def image_from_version(subscription: str, definition: Any, version: Any) -> DiscoveredImage:
    """Build the DiscoveredImage of one gallery image version (``definition`` is its GalleryImage).

    Regions are canonical (``westus``); ``replication`` holds each target region's replica count and, when the
    version was read with ``$expand=ReplicationStatus``, its replication state. A version reported for a policy
    violation has the state ``flagged`` whatever its provisioning state says.
    """
    profile = version.publishing_profile
    identifier = definition.identifier
    safety = _safety(version)
    extra = {
        "resource_id": version.id or "",
        "resource_group": resource_id_part(version.id, "resourceGroups"),
        "gallery": resource_id_part(version.id, "galleries"),
        "regions": [normalise_location(region.name) for region in (profile.target_regions or [])] if profile else [],
        "replica_count": (profile.replica_count if profile else None),
        "replication": _replication(version),
        "exclude_from_latest": bool(profile.exclude_from_latest) if profile else False,
        "end_of_life_date": _iso(profile.end_of_life_date) if profile else "",
        "os_type": text(definition.os_type),
        "identifier": dict(identifier) if identifier else {},
        "safety": safety,
        "provisioning_state": text(version.provisioning_state),
    }
    return DiscoveredImage(
        platform=PLATFORM,
        account=subscription,
        region=normalise_location(version.location),
        image_ref=normalise_resource_id(version.id),
        name=f"{definition.name}/{version.name}",
        family=definition.name or "",
        version=version.name or "",
        created_at=_iso(profile.published_date) if profile else "",
        state="flagged" if safety["reported_for_policy_violation"] else text(version.provisioning_state),
        tags=dict(version.tags or {}),
        extra=extra,
    )


def _safety(version: Any) -> dict[str, Any]:
    """``safetyProfile``: whether Azure reported the version for a policy violation, and the violations."""
    profile = getattr(version, "safety_profile", None)
    violations = [
        {"category": text(item.category), "details": item.details or ""}
        for item in ((profile.policy_violations if profile else None) or [])
    ]
    reported = bool(profile and profile.reported_for_policy_violation) or bool(violations)
    return {"reported_for_policy_violation": reported, "policy_violations": violations}


def _replication(version: Any) -> dict[str, dict[str, Any]]:
    """Canonical region → {replica_count, state, progress, details} from the target regions and replication status."""
    profile = version.publishing_profile
    regions: dict[str, dict[str, Any]] = {}
    for target in (profile.target_regions or []) if profile else []:
        count = target.regional_replica_count or (profile.replica_count if profile else None)
        regions[normalise_location(target.name)] = {"replica_count": count, "state": ""}
    status = getattr(version, "replication_status", None)
    for item in (status.summary or []) if status else []:
        entry = regions.setdefault(normalise_location(item.region), {"replica_count": None, "state": ""})
        entry.update(state=text(item.state), progress=item.progress, details=item.details or "")
    return regions


def build_asset(
    subscription: str,
    machine: Any,
    *,
    reference: Any,
    statuses: Iterable[Any] | None,
    group_id: str = "",
    extra: Mapping[str, Any] | None = None,
) -> DiscoveredAsset:
    """Build the DiscoveredAsset of a VM or scale-set VM, with edges member_of its group and launched_from its image."""
    instance_id = normalise_resource_id(machine.id)
    image = resolve_image_reference(reference)
    state, power_code = power_state(statuses)
    group_ref = normalise_resource_id(group_id)
    edges = []
    if group_ref:
        edges.append(AssetEdge("instance", instance_id, "group", group_ref, "member_of"))
    if image.image_ref:
        edges.append(AssetEdge("instance", instance_id, "image", image.image_ref, "launched_from"))
    region = normalise_location(machine.location)
    details = {
        "resource_id": machine.id or "",
        "resource_group": resource_id_part(machine.id, "resourceGroups"),
        "vm_id": machine.vm_id or "",
        "power_state": power_code,
        **({"image_reference_unresolved": image.unresolved} if image.unresolved else {}),
        **dict(extra or {}),
    }
    if image.unresolved:
        asker = "the scale set asks" if group_ref else "the machine asks"
        details["unresolved_reason"] = (
            f"unmanaged because {asker} for `latest` and the instance reports no exact version"
            if image.unresolved.lower().endswith("latest")
            else f"unmanaged because the image reference {image.unresolved} names no concrete version"
        )
    return DiscoveredAsset(
        platform=PLATFORM,
        account=subscription,
        region=region,
        instance_id=instance_id,
        name=machine.name or "",
        state=state,
        image_ref=image.image_ref,
        image_version=image.version,
        zone=(machine.zones or [""])[0],
        site_hint=region,
        group_ref=group_ref,
        tags=dict(machine.tags or {}),
        edges=tuple(edges),
        extra=details,
    )


def statuses_of(machine: Any) -> list[Any]:
    """Return the instance-view statuses a VM model carries ([] when the listing had no instance view)."""
    view = machine.instance_view
    return list(view.statuses or []) if view is not None else []


def image_reference_of(machine: Any) -> Any:
    """Return the ``ImageReference`` of a VM model (None when the machine was not created from an image)."""
    profile = machine.storage_profile
    return profile.image_reference if profile is not None else None
