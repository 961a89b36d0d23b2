"""Asset discovery of the GCP connector: instances, their MIG and template, and the concrete image of the boot disk.

The image a machine runs is read from its boot disk (``disk.sourceImage``), never from the template: a template may
name an image *family*, which resolves to a different concrete image each time an instance is created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.cloud import compute_v1

from .base import AssetEdge, ConnectorError, DiscoveredAsset, require_answer
from .gcp_clients import CallOptions, GcpClients
from .gcp_refs import (
    image_family_of,
    image_ref_or_empty,
    is_family_ref,
    last_segment,
    normalise_resource_ref,
    normalise_state,
    project_of,
    region_of_zone,
)
from .gcp_templates import TemplateIndex

__all__ = ["AssetCollector", "BootImage", "Membership", "aggregated_items", "real_pages"]

NO_RESULTS = "NO_RESULTS_ON_PAGE"
UNREACHABLE = "UNREACHABLE"


@dataclasses.dataclass(frozen=True)
class Membership:
    """The MIG an instance belongs to and the template its MIG version created it from (canonical refs)."""

    group_ref: str
    template_ref: str


@dataclasses.dataclass(frozen=True)
class BootImage:
    """What the boot disk says about its origin."""

    source_image: str = ""  # as the disk states it, normalised (concrete in practice)
    source_image_id: str = ""
    source_snapshot: str = ""


def real_pages(pager: Any, what: str) -> Iterator[Any]:
    """The pager's pages, each checked to be a real Compute list answer (every one carries ``kind``).

    The REST transport parses ``{}`` (or any JSON object) into an empty list message: without this check a proxy's
    empty ``200`` would read as a project without machines.
    """
    for page in pager.pages:
        yield require_answer(page, shape_keys=("kind",), what=what)


def aggregated_items(pager: Any, field: str) -> Iterator[Any]:
    """Items of an aggregated list across every page and scope; warning-only scopes are skipped.

    A scope the API could not reach (``UNREACHABLE`` warning or ``unreachables``) raises: a zone missing from the
    answer must fail the project rather than make its machines look removed.
    """
    for page in real_pages(pager, f"aggregatedList of {field}"):
        if page.unreachables:
            raise ConnectorError(f"the Compute API could not reach {', '.join(page.unreachables)}")
        for scope_name, scoped in page.items.items():
            if scoped.warning.code == UNREACHABLE:
                raise ConnectorError(f"{scope_name} is unreachable: {scoped.warning.message}")
            yield from getattr(scoped, field)


def _boot_image(disk: compute_v1.Disk) -> BootImage:
    project = project_of(disk.self_link)
    source = image_ref_or_empty(disk.source_image, project=project)
    return BootImage(source, str(disk.source_image_id or ""), normalise_resource_ref(disk.source_snapshot))


class AssetCollector:
    """Reads one project's MIG memberships, disks and templates, then yields its instances as assets."""

    def __init__(self, clients: GcpClients, options: CallOptions, project: str):
        self.clients = clients
        self.options = options
        self.project = project
        self.templates = TemplateIndex(clients, options, project)
        self._family_images: dict[tuple[str, str], str] = {}

    def iter_assets(self) -> Iterator[DiscoveredAsset]:
        """Yield every instance of the project (running or not) with its image, group and graph edges."""
        memberships = self.memberships()
        disks = self.disks()
        pager = self.clients.instances.aggregated_list(project=self.project, **self.options.kwargs())
        for instance in aggregated_items(pager, "instances"):
            yield self.to_asset(instance, memberships, disks)

    def memberships(self) -> dict[str, Membership]:
        """Canonical instance ref → its MIG and template, from every zonal and regional MIG of the project."""
        pager = self.clients.igms.aggregated_list(project=self.project, **self.options.kwargs())
        result: dict[str, Membership] = {}
        for mig in aggregated_items(pager, "instance_group_managers"):
            group_ref = normalise_resource_ref(mig.self_link)
            for managed in self._managed_instances(mig):
                template = managed.version.instance_template or mig.instance_template
                result[normalise_resource_ref(managed.instance)] = Membership(
                    group_ref, normalise_resource_ref(template)
                )
        return result

    def _managed_instances(self, mig: compute_v1.InstanceGroupManager) -> Iterable[compute_v1.ManagedInstance]:
        if mig.zone:
            zone = last_segment(mig.zone)
            return self.clients.igms.list_managed_instances(
                project=self.project, zone=zone, instance_group_manager=mig.name, **self.options.kwargs()
            )
        region = last_segment(mig.region)
        return self.clients.region_igms.list_managed_instances(
            project=self.project, region=region, instance_group_manager=mig.name, **self.options.kwargs()
        )

    def disks(self) -> dict[str, BootImage]:
        """Canonical disk ref → its origin, for every zonal and regional disk of the project (one paged call)."""
        pager = self.clients.disks.aggregated_list(project=self.project, **self.options.kwargs())
        return {normalise_resource_ref(disk.self_link): _boot_image(disk) for disk in aggregated_items(pager, "disks")}

    def boot_image(self, instance: compute_v1.Instance, disks: dict[str, BootImage]) -> BootImage:
        """The boot disk's origin; a zonal disk created after the aggregated disk list is read with ``disks.get``."""
        boot = next((disk for disk in instance.disks if disk.boot), None)
        if boot is None or not boot.source:
            return BootImage()
        ref = normalise_resource_ref(boot.source)
        if ref in disks:
            return disks[ref]
        parts = ref.split("/")  # projects/<p>/zones/<z>/disks/<d>
        if len(parts) != 6 or parts[2] != "zones":
            return BootImage()
        try:
            disk = self.clients.disks.get(project=parts[1], zone=parts[3], disk=parts[5], **self.options.kwargs())
        except api_exceptions.NotFound:
            return BootImage()
        return _boot_image(disk)

    def concrete_image(self, boot: BootImage) -> str:
        """The concrete image of a boot disk; a family reference is resolved through ``sourceImageId``."""
        if not boot.source_image or not is_family_ref(boot.source_image):
            return boot.source_image
        if not boot.source_image_id:
            return ""
        key = (project_of(boot.source_image), boot.source_image_id)
        if key not in self._family_images:
            request = {"project": key[0], "filter": f"id = {key[1]}"}
            pager = self.clients.images.list(request=request, **self.options.kwargs())
            match = next((image for image in pager if str(image.id) == key[1]), None)
            self._family_images[key] = image_ref_or_empty(match.self_link, project=key[0]) if match else ""
        return self._family_images[key]

    def to_asset(
        self, instance: compute_v1.Instance, memberships: dict[str, Membership], disks: dict[str, BootImage]
    ) -> DiscoveredAsset:
        """Translate one Compute instance into the connector interface's dataclass, edges included."""
        instance_ref = normalise_resource_ref(instance.self_link)
        zone = last_segment(instance.zone)
        region = region_of_zone(zone)
        boot = self.boot_image(instance, disks)
        image_ref = self.concrete_image(boot)
        membership = memberships.get(instance_ref)
        template_image = self.templates.source_image(membership.template_ref) if membership else ""
        instance_id = str(instance.id) if instance.id else instance_ref
        extra = {
            "self_link": instance_ref,
            "status": instance.status,
            "machine_type": last_segment(instance.machine_type),
            "source_image_id": boot.source_image_id,
            "source_snapshot": boot.source_snapshot,
            "template": membership.template_ref if membership else "",
            "template_source_image": template_image,
            "image_family": image_family_of(template_image) or image_family_of(boot.source_image),
        }
        return DiscoveredAsset(
            platform="gcp",
            account=self.project,
            region=region,
            instance_id=instance_id,
            name=instance.name,
            state=normalise_state(instance.status),
            image_ref=image_ref,
            zone=zone,
            site_hint=region,
            group_ref=membership.group_ref if membership else "",
            tags=dict(instance.labels),
            edges=_edges(instance_id, image_ref, membership, template_image),
            extra=extra,
        )


def _edges(
    instance_id: str, image_ref: str, membership: Membership | None, template_image: str
) -> tuple[AssetEdge, ...]:
    """instance → MIG → template → image, and instance → image; a family template points at the concrete image."""
    edges: list[AssetEdge] = []
    if membership:
        edges.append(AssetEdge("instance", instance_id, "group", membership.group_ref, "member_of"))
        if membership.template_ref:
            edges.append(AssetEdge("group", membership.group_ref, "template", membership.template_ref, "uses_template"))
            target = image_ref if (not template_image or is_family_ref(template_image)) else template_image
            if target:
                edges.append(AssetEdge("template", membership.template_ref, "image", target, "launched_from"))
    if image_ref:
        edges.append(AssetEdge("instance", instance_id, "image", image_ref, "launched_from"))
    return tuple(edges)
