"""Reads of the inventory: restricted assets, scan runs, and one asset's graph."""

from __future__ import annotations

from .models import Asset, AssetEdge, Connector, ScanRun


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
