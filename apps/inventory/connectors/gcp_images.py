"""Image discovery of the GCP connector: one project's images, with each family's current image flagged."""

from __future__ import annotations

import datetime as dt

from google.cloud import compute_v1

from .base import DiscoveredImage
from .gcp_assets import real_pages
from .gcp_clients import CallOptions, GcpClients
from .gcp_refs import normalise_image_ref, normalise_resource_ref, parse_image_version

__all__ = ["family_current_refs", "image_is_usable", "list_project_images", "to_discovered_image"]

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def list_project_images(clients: GcpClients, options: CallOptions, project: str) -> list[DiscoveredImage]:
    """Every image of ``project`` (all pages), read completely before any is returned so families can be ranked."""
    pager = clients.images.list(project=project, **options.kwargs())
    images = [image for page in real_pages(pager, "images.list") for image in page.items]
    current = family_current_refs(images, project)
    return [to_discovered_image(image, project, current) for image in images]


def image_is_usable(image: compute_v1.Image) -> bool:
    """READY and not deprecated/obsolete/deleted: what ``images.getFromFamily`` may return."""
    return image.status == "READY" and image.deprecated.state in ("", "ACTIVE")


def _created(image: compute_v1.Image) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(image.creation_timestamp)
    except ValueError:
        return _EPOCH


def _ref(image: compute_v1.Image, project: str) -> str:
    return normalise_image_ref(image.self_link or f"global/images/{image.name}", project=project)


def family_current_refs(images: list[compute_v1.Image], project: str) -> set[str]:
    """The canonical refs of each family's newest usable image (compared as instants, ties broken by name)."""
    newest: dict[str, tuple[dt.datetime, str, str]] = {}
    for image in images:
        if not image.family or not image_is_usable(image):
            continue
        candidate = (_created(image), image.name, _ref(image, project))
        if image.family not in newest or candidate[:2] > newest[image.family][:2]:
            newest[image.family] = candidate
    return {ref for _, _, ref in newest.values()}


def _state(image: compute_v1.Image) -> str:
    return (image.deprecated.state or image.status or "unknown").lower()


def to_discovered_image(image: compute_v1.Image, project: str, current: set[str]) -> DiscoveredImage:
    """Translate one Compute image into the connector interface's dataclass."""
    ref = _ref(image, project)
    labels = dict(image.labels)
    extra = {
        "id": str(image.id) if image.id else "",
        "status": image.status,
        "deprecated_state": image.deprecated.state,
        "deprecated_at": image.deprecated.deprecated,  # RFC 3339 times GCP sets when it deprecates the image
        "obsolete_at": image.deprecated.obsolete,
        "deleted_at": image.deprecated.deleted,
        "replacement": normalise_resource_ref(image.deprecated.replacement),
        "family_current": ref in current,
        "architecture": image.architecture,
        "storage_locations": list(image.storage_locations),
    }
    return DiscoveredImage(
        platform="gcp",
        account=project,
        region="",
        image_ref=ref,
        name=image.name,
        family=image.family,
        version=parse_image_version(image.name, labels),
        created_at=image.creation_timestamp,
        state=_state(image),
        tags=labels,
        extra=extra,
    )
