"""Reads of the inventory: restricted assets, scan runs, and one asset's graph."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import OuterRef, Q, Subquery

from .models import Asset, AssetEdge, AssetImageChange, AssetPresence, Connector, ScanRun


def asset_list(user, *, include_removed: bool = False):
    """Assets the user can see, with what list views show, in one query."""
    queryset = Asset.objects.restrict(user, "view").select_related(
        "site", "environment", "image_version__family", "connector"
    )
    return queryset if include_removed else queryset.filter(removed_at__isnull=True)


def asset_graph(asset: Asset) -> dict:
    """The asset graph around one asset: nodes and edges (instance → group → template → image)."""
    edges = list(AssetEdge.objects.filter(asset=asset).order_by("id"))
    nodes = {("instance", asset.instance_id)}
    for edge in edges:
        nodes.add((edge.source_kind, edge.source_ref))
        nodes.add((edge.target_kind, edge.target_ref))
    version = asset.image_version
    return {
        "nodes": [{"kind": kind, "ref": ref} for kind, ref in sorted(nodes)],
        "edges": [
            {
                "source": {"kind": e.source_kind, "ref": e.source_ref},
                "label": e.label,
                "target": {"kind": e.target_kind, "ref": e.target_ref},
            }
            for e in edges
        ],
        "image_version": str(version) if version else None,
    }


def scan_run_list(user):
    return ScanRun.objects.restrict(user, "view").select_related("connector")


def connector_list(user):
    return Connector.objects.restrict(user, "view")


def connector_latest_runs(user) -> dict[int, ScanRun]:
    """The latest run of each visible connector (one query per call, not per connector)."""
    latest = {}
    for run in scan_run_list(user).order_by("connector_id", "-queued_at", "-id"):
        latest.setdefault(run.connector_id, run)
    return latest


@dataclasses.dataclass(frozen=True)
class AssetAt:
    """One machine as it was at an instant: present then, on this image (ref and the version it resolved to)."""

    asset_id: int
    instance_id: str
    platform: str
    account: str
    image_ref: str
    image_version_id: int | None


def assets_present_at(organization, at: datetime.datetime, queryset=None):
    """Assets present at ``at`` per the append-only history, annotated with the image they ran then.

    Present: a presence interval with ``seen_from <= at`` and (``seen_until`` null or ``> at``). ``ref_then`` and
    ``version_then`` are the last image change at or before ``at`` ("" / None when none is recorded by then) — never the
    asset's current image, which a later scan may have changed. ``queryset`` narrows the assets (e.g. restricted).
    """
    present = AssetPresence.objects.filter(organization=organization, seen_from__lte=at).filter(
        Q(seen_until__isnull=True) | Q(seen_until__gt=at)
    )
    changes = AssetImageChange.objects.filter(asset_id=OuterRef("pk"), at__lte=at).order_by("-at", "-id")
    assets = Asset.objects.all() if queryset is None else queryset
    return assets.filter(organization=organization, pk__in=present.values("asset_id")).annotate(
        ref_then=Subquery(changes.values("image_ref")[:1]),
        version_then=Subquery(changes.values("image_version_id")[:1]),
    )


def assets_at(organization, at: datetime.datetime) -> list[AssetAt]:
    """Which machines existed at ``at``, on which image — from the append-only history, not the current rows."""
    rows = (
        assets_present_at(organization, at)
        .order_by("platform", "account", "instance_id")
        .values_list("pk", "instance_id", "platform", "account", "ref_then", "version_then")
    )
    return [
        AssetAt(pk, instance_id, platform, account, ref or "", version)
        for pk, instance_id, platform, account, ref, version in rows
    ]
