"""The facts behind an insight: the scope's drifted machines with their place in the asset graph, and what changed
in the window (promotions, grace ends, revocations, scans). Reads only; plain JSON-able data (dates as ISO strings).

Everything a narrative or a model may say comes from here: the grounding check accepts only tokens found in it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from apps.drift.choices import NOT_RUNNING_STATES
from apps.drift.engine import FINISHED, Evaluation, drift_evaluate, fleet_at, outdated_assets
from apps.images.models import ChannelAssignment, ImageArtifact, ImageVersion
from apps.inventory.models import AssetEdge, ScanRun
from apps.inventory.services.seen import Sightings
from apps.tenancy.models import Environment, Site

from .scope import WINDOW_DAYS, InsightScope


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _in_scope(rows, scope: InsightScope):
    for field, value in (
        ("environment__slug", scope.environment),
        ("platform", scope.platform),
        ("site__slug", scope.site),
    ):
        if value:
            rows = rows.filter(**{field: value})
    return rows


def _machine(asset, status: str, sightings: Sightings) -> dict:
    return {
        "id": asset.pk,
        "instance_id": asset.instance_id,
        "status": status,
        "environment": asset.environment.slug if asset.environment_id else "",
        "platform": asset.platform,
        "site": asset.site.slug if asset.site_id else "",
        "account": asset.account,
        "region": asset.region,
        "connector_id": asset.connector_id,
        "scope_key": asset.scope_key,
        "image_ref": asset.image_ref,
        "version": str(asset.image_version) if asset.image_version_id else None,
        "version_id": asset.image_version_id,
        "group": asset.group_ref,
        "first_seen": _iso(asset.first_seen),
        "last_seen": _iso(sightings.last_seen(asset)),  # the effective last sighting (ADR 026)
    }


def _machines(organization, scope: InsightScope, evaluation: Evaluation) -> list[dict]:
    """Every outdated, unmanaged and stale machine of the scope (stopped ones as the drift report counts them)."""
    related = ("environment", "site", "image_version__family")
    machines = []
    sightings = Sightings([organization.pk])
    for asset in _in_scope(outdated_assets(organization, evaluation), scope).select_related(*related):
        verdict = evaluation.verdicts[(asset.environment_id, asset.image_version_id)]
        machine = _machine(asset, "outdated", sightings)
        machine.update(reason=verdict.reason, baseline=verdict.baseline, outdated_since=_iso(verdict.outdated_since))
        machines.append(machine)
    fleet = _in_scope(fleet_at(organization, evaluation.at, evaluation.stale), scope).select_related(*related)
    if evaluation.excludes_not_running:
        fleet = fleet.exclude(state__in=NOT_RUNNING_STATES)
    machines += [_machine(a, "unmanaged", sightings) for a in fleet.filter(stale=False, image_version__isnull=True)]
    machines += [_machine(a, "stale", sightings) for a in fleet.filter(stale=True)]
    machines.sort(key=lambda m: (m["status"], m["instance_id"]))
    _attach_graph(organization, machines)
    return machines


def _attach_graph(organization, machines: list[dict]) -> None:
    """Each machine's launch template and the image the template names (group → template → image edges)."""
    templates: dict[int, str] = {}
    template_images: dict[tuple[int, str], str] = {}
    ids = [m["id"] for m in machines]
    for chunk in range(0, len(ids), 1000):
        for asset_id, source_kind, source_ref, target_kind, target_ref in AssetEdge.objects.filter(
            organization=organization, asset_id__in=ids[chunk : chunk + 1000]
        ).values_list("asset_id", "source_kind", "source_ref", "target_kind", "target_ref"):
            if source_kind == "group" and target_kind == "template":
                templates[asset_id] = target_ref
            elif source_kind == "template" and target_kind == "image":
                template_images[(asset_id, source_ref)] = target_ref
    for machine in machines:
        template = templates.get(machine["id"], "")
        machine["template"] = template
        machine["template_image"] = template_images.get((machine["id"], template), "") if template else ""


def _counts(organization, scope: InsightScope, evaluation: Evaluation) -> dict:
    totals = defaultdict(int)
    environments = dict(Environment.objects.filter(organization=organization).values_list("id", "slug"))
    sites = dict(Site.objects.filter(organization=organization).values_list("id", "slug"))
    for (env_id, platform, site_id), cell in evaluation.cells.items():
        if not scope.filters.keep((environments.get(env_id), platform, sites.get(site_id))):
            continue
        for name in ("total", "compliant", "outdated", "unmanaged", "stale", "not_running"):
            totals[name] += getattr(cell, name)
    counted = totals["compliant"] + totals["outdated"] + totals["unmanaged"]
    totals["coverage_pct"] = round(100.0 * totals["compliant"] / counted, 2) if counted else None
    return dict(totals)


def _changes(organization, at: datetime.datetime) -> dict:
    since = at - datetime.timedelta(days=WINDOW_DAYS)
    promotions = [
        {
            "family": a.channel.family.slug,
            "environment": a.channel.environment.slug,
            "from": str(a.from_version) if a.from_version_id else None,
            "to": str(a.to_version),
            "to_id": a.to_version_id,
            "assigned_at": _iso(a.assigned_at),
            "grace_until": _iso(a.grace_until),
        }
        for a in ChannelAssignment.objects.filter(organization=organization, assigned_at__lte=at)
        .select_related("channel__family", "channel__environment", "from_version__family", "to_version__family")
        .order_by("assigned_at", "id")
    ]
    revocations = [
        {"version": str(v), "version_id": v.pk, "revoked_at": _iso(v.revoked_at)}
        for v in ImageVersion.objects.filter(organization=organization, revoked_at__lte=at)
        .select_related("family")
        .order_by("revoked_at", "id")
    ]
    return {
        "window_days": WINDOW_DAYS,
        "window_start": _iso(since),
        "promotions": promotions,
        "promotions_in_window": sum(1 for p in promotions if p["assigned_at"] >= since.isoformat()),
        "revocations": revocations,
    }


def _scans(organization, at: datetime.datetime, connector_ids: set[int]) -> dict:
    """Per connector: the latest finished scan at ``at``, its failed scopes, and the last succeeded scan."""
    latest: dict[int, ScanRun] = {}
    succeeded: dict[int, datetime.datetime] = {}
    runs = ScanRun.objects.filter(organization=organization, status__in=FINISHED, started_at__lte=at)
    if connector_ids:
        runs = runs.filter(connector_id__in=connector_ids)
    for run in runs.order_by("started_at", "id"):
        latest[run.connector_id] = run
        if run.status == "succeeded":
            succeeded[run.connector_id] = run.started_at
    connectors = {}
    for connector_id, run in latest.items():
        failed = {
            key: (value or {}).get("error", "")
            for key, value in sorted((run.scopes or {}).items())
            if (value or {}).get("status") == "failed"
        }
        last_ok = succeeded.get(connector_id)
        connectors[str(connector_id)] = {
            "connector_id": connector_id,
            "latest_scan_id": run.pk,
            "latest_status": run.status,
            "latest_started_at": _iso(run.started_at),
            "failed_scopes": failed,
            "last_succeeded_at": _iso(last_ok),
            "last_succeeded_age_hours": round((at - last_ok).total_seconds() / 3600, 1) if last_ok else None,
        }
    return connectors


def _registry(organization, machines: list[dict]) -> dict:
    """The artifacts (platform, region, image) of every version the machines run or should run."""
    labels = {m["version"] for m in machines if m.get("version")} | {m.get("baseline") for m in machines}
    labels.discard(None)
    labels.discard("")
    artifacts: dict[str, list[dict]] = defaultdict(list)
    query = Q()
    for label in labels:
        family, _, version = label.partition("@")
        query |= Q(version__family__slug=family, version__version=version)
    if labels:
        for artifact in ImageArtifact.objects.filter(query, organization=organization).select_related(
            "version__family"
        ):
            artifacts[str(artifact.version)].append(
                {
                    "platform": artifact.platform,
                    "account": artifact.account,
                    "region": artifact.region,
                    "image_ref": artifact.image_ref,
                }
            )
    return {
        label: sorted(rows, key=lambda r: (r["platform"], r["region"], r["image_ref"]))
        for label, rows in sorted(artifacts.items())
    }


def gather_facts(organization, scope: InsightScope) -> dict:
    """All the facts of one scope, live or at ``scope.as_of`` (the fleet re-evaluated at that instant)."""
    at = scope.as_of or timezone.now()
    evaluation = drift_evaluate(organization, at)
    machines = _machines(organization, scope, evaluation)
    connector_ids = {m["connector_id"] for m in machines if m["connector_id"]}
    return {
        "organization": organization.slug,
        "scope": scope.as_dict(),
        "at": _iso(at),
        "totals": _counts(organization, scope, evaluation),
        "machines": machines,
        "changes": _changes(organization, at),
        "scans": _scans(organization, at, connector_ids),
        "registry": _registry(organization, machines),
    }
