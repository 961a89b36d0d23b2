"""Writes of drift: append-only snapshots (after scans and daily), RAG threshold events, retention."""

from __future__ import annotations

import datetime
import itertools

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.events.services import emit
from apps.tenancy.models import Environment, Organization, Site

from .engine import Cell, drift_evaluate, outdated_assets
from .models import DriftSnapshot, DriftSnapshotAsset, DriftSnapshotRow
from .reports import rag_for

CHUNK = 2000


def _environment_coverage(organization, cells: dict[str, Cell]) -> dict[str, tuple[float | None, str | None]]:
    return {slug: (cell.coverage_pct, rag_for(organization, cell.coverage_pct)) for slug, cell in cells.items()}


def _by_environment(rows) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for row in rows:
        cells.setdefault(row.environment_slug, Cell()).add(
            Cell(total=row.total, compliant=row.compliant, outdated=row.outdated, unmanaged=row.unmanaged)
        )
    return cells


def _write_outdated(organization, snapshot, evaluation, envs, sites) -> int:
    """Stream the outdated assets into the snapshot in chunks (bounded memory)."""
    verdicts = evaluation.verdicts
    rows = (
        outdated_assets(organization, evaluation)
        .values_list(
            "id",
            "instance_id",
            "name",
            "platform",
            "environment_id",
            "site_id",
            "image_version_id",
            "outdated_since",
            "running",
        )
        .iterator(chunk_size=CHUNK)
    )
    written = 0
    while chunk := list(itertools.islice(rows, CHUNK)):
        DriftSnapshotAsset.objects.bulk_create(
            DriftSnapshotAsset(
                organization=organization,
                snapshot=snapshot,
                asset_id=pk,
                instance_id=instance_id,
                name=name[:300],
                platform=platform,
                environment_slug=envs.get(env_id, ""),
                site_slug=sites.get(site_id, ""),
                version=evaluation.labels[version_id],
                baseline=verdicts[(env_id, version_id)].baseline,
                outdated_since=since,
                days_behind=max(0, (evaluation.at - since).days),
                reason=verdicts[(env_id, version_id)].reason,
                running=running,
            )
            for pk, instance_id, name, platform, env_id, site_id, version_id, since, running in chunk
        )
        written += len(chunk)
    return written


@transaction.atomic
def drift_snapshot_write(*, organization: Organization, trigger: str, scan_run=None) -> DriftSnapshot:
    """Evaluate the fleet now and store it as an immutable snapshot; emit events when an environment changes RAG."""
    evaluation = drift_evaluate(organization)
    previous = DriftSnapshot.objects.filter(organization=organization).order_by("-taken_at", "-id").first()
    envs = dict(Environment.objects.filter(organization=organization).values_list("id", "slug"))
    sites = dict(Site.objects.filter(organization=organization).values_list("id", "slug"))
    snapshot = DriftSnapshot.objects.create(
        organization=organization, taken_at=evaluation.at, trigger=trigger, scan_run=scan_run
    )
    rows = [
        DriftSnapshotRow(
            organization=organization,
            snapshot=snapshot,
            environment_id=env_id,
            environment_slug=envs.get(env_id, ""),
            platform=platform,
            site_id=site_id,
            site_slug=sites.get(site_id, ""),
            total=cell.total,
            compliant=cell.compliant,
            outdated=cell.outdated,
            unmanaged=cell.unmanaged,
            stale=cell.stale,
            not_running=cell.not_running,
            oldest_drift_days=max(0, (evaluation.at - cell.oldest_drift).days) if cell.oldest_drift else None,
        )
        for (env_id, platform, site_id), cell in evaluation.cells.items()
    ]
    DriftSnapshotRow.objects.bulk_create(rows)
    written = _write_outdated(organization, snapshot, evaluation, envs, sites)
    before = _environment_coverage(organization, _by_environment(previous.rows.all())) if previous else {}
    after = _environment_coverage(organization, _by_environment(rows))
    for slug, (coverage, rag) in sorted(after.items()):
        old_rag = before.get(slug, (None, None))[1]
        if rag is not None and rag != old_rag and slug:
            emit(
                organization=organization,
                type="drift.threshold.crossed",
                payload={"environment": slug, "from_rag": old_rag, "to_rag": rag, "coverage_pct": coverage},
            )
    emit(
        organization=organization,
        type="drift.snapshot.written",
        payload={"taken_at": snapshot.taken_at.isoformat(), "rows": len(rows) + written},
    )
    return snapshot


def drift_snapshots_expire(*, now: datetime.datetime | None = None) -> int:
    """Retention: drop snapshots older than QLRF_DRIFT_RETENTION_DAYS (13 months by default)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.QLRF_DRIFT_RETENTION_DAYS)
    return DriftSnapshot.objects.filter(taken_at__lt=cutoff).expire()
