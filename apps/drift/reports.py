"""DriftReports: the engine's cells (live) or a snapshot's rows (as of a past date) in one shape, with roll-ups."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from apps.tenancy.models import Environment, Site

from .choices import NOT_RUNNING_STATES, RagChoices
from .engine import Cell, Evaluation, first_outdated
from .models import DriftSnapshot, DriftSnapshotAsset

INLINE_OUTDATED = 20


def rag_for(organization, coverage: float | None) -> str | None:
    """Red below the organisation's red threshold, amber below its amber threshold, green otherwise."""
    if coverage is None:
        return None
    if coverage < organization.rag_red_below:
        return RagChoices.RED
    if coverage < organization.rag_amber_below:
        return RagChoices.AMBER
    return RagChoices.GREEN


@dataclass
class OutdatedAsset:
    instance_id: str
    name: str
    platform: str
    environment: str
    site: str
    version: str
    baseline: str
    days_behind: int
    outdated_since: datetime.datetime
    reason: str
    running: bool = True  # False: stopped/deallocated, outdated all the same (it can be started again as it is)


def outdated_asset(row, source: str, evaluation) -> OutdatedAsset:
    """One row of an outdated list — a DriftSnapshotAsset (as of) or a live Asset with its verdict — in one shape."""
    if source == "snapshot":
        return OutdatedAsset(
            row.instance_id,
            row.name,
            row.platform,
            row.environment_slug,
            row.site_slug,
            row.version,
            row.baseline,
            row.days_behind,
            row.outdated_since,
            row.reason,
            row.running,
        )
    verdict = evaluation.verdicts[(row.environment_id, row.image_version_id)]
    return OutdatedAsset(
        row.instance_id,
        row.name,
        row.platform,
        row.environment.slug if row.environment else "",
        row.site.slug if row.site else "",
        str(row.image_version),
        verdict.baseline,
        max(0, (evaluation.at - row.outdated_since).days),
        row.outdated_since,
        verdict.reason,
        getattr(row, "running", row.state not in NOT_RUNNING_STATES),
    )


@dataclass
class DriftReport:
    environment: str | None
    platform: str | None
    site: str | None
    total_assets: int
    compliant_assets: int
    outdated_count: int
    unmanaged_count: int
    stale_count: int
    not_running_count: int
    coverage_pct: float | None
    rag: str | None
    oldest_drift_days: int | None
    calculated_at: datetime.datetime
    outdated_assets: list[OutdatedAsset] = field(default_factory=list)


@dataclass
class DriftReportSet:
    calculated_at: datetime.datetime
    source: str  # "live" | "snapshot"
    snapshot_id: int | None
    reports: list[DriftReport]
    by_environment: list[DriftReport]
    by_site: list[DriftReport]
    by_platform: list[DriftReport]
    total: DriftReport
    as_of: datetime.datetime | None = None  # the instant asked for; None: live
    snapshot_taken_at: datetime.datetime | None = None
    snapshot_trigger: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _days(since: datetime.datetime | None, at: datetime.datetime) -> int | None:
    return max(0, (at - since).days) if since else None


def _report(organization, key: tuple, cell: Cell, at: datetime.datetime, outdated=None) -> DriftReport:
    environment, platform, site = key
    coverage = cell.coverage_pct
    return DriftReport(
        environment=environment,
        platform=platform,
        site=site,
        total_assets=cell.total,
        compliant_assets=cell.compliant,
        outdated_count=cell.outdated,
        unmanaged_count=cell.unmanaged,
        stale_count=cell.stale,
        not_running_count=cell.not_running,
        coverage_pct=coverage,
        rag=rag_for(organization, coverage),
        oldest_drift_days=_days(cell.oldest_drift, at),
        calculated_at=at,
        outdated_assets=outdated or [],
    )


def _rollup(organization, cells: dict[tuple, Cell], index: int | None, at) -> list[DriftReport]:
    grouped: dict[tuple, Cell] = {}
    for key, cell in cells.items():
        rolled = tuple(part if position == index else None for position, part in enumerate(key))
        grouped.setdefault(rolled, Cell()).add(cell)
    return [_report(organization, key, cell, at) for key, cell in sorted(grouped.items(), key=_sort_key)]


def _sort_key(item):
    return tuple("" if part is None else str(part) for part in item[0])


def build_report_set(
    organization, cells, at, *, source, snapshot_id=None, outdated_by_cell=None, as_of=None, snapshot_trigger=None
) -> DriftReportSet:
    outdated_by_cell = outdated_by_cell or {}
    reports = [
        _report(organization, key, cell, at, outdated_by_cell.get(key))
        for key, cell in sorted(cells.items(), key=_sort_key)
    ]
    total = Cell()
    for cell in cells.values():
        total.add(cell)
    return DriftReportSet(
        calculated_at=at,
        source=source,
        snapshot_id=snapshot_id,
        reports=reports,
        by_environment=_rollup(organization, cells, 0, at),
        by_platform=_rollup(organization, cells, 1, at),
        by_site=_rollup(organization, cells, 2, at),
        total=_report(organization, (None, None, None), total, at),
        as_of=as_of,
        snapshot_taken_at=at if source == "snapshot" else None,
        snapshot_trigger=snapshot_trigger,
    )


def live_cells(organization, evaluation: Evaluation) -> tuple[dict, dict]:
    """Cells keyed by slugs, and up to INLINE_OUTDATED outdated assets per cell (``engine.first_outdated``)."""
    envs = dict(Environment.objects.filter(organization=organization).values_list("id", "slug"))
    sites = dict(Site.objects.filter(organization=organization).values_list("id", "slug"))
    cells = {(envs.get(e), p, sites.get(s)): cell for (e, p, s), cell in evaluation.cells.items()}
    outdated: dict[tuple, list[OutdatedAsset]] = {}
    for (env_id, platform, site_id), first in first_outdated(organization, evaluation, INLINE_OUTDATED).items():
        key = (envs.get(env_id), platform, sites.get(site_id))
        outdated[key] = [
            OutdatedAsset(
                instance_id=instance_id,
                name=name,
                platform=platform,
                environment=key[0] or "",
                site=key[2] or "",
                version=evaluation.labels[version_id],
                baseline=evaluation.verdicts[(env_id, version_id)].baseline,
                days_behind=_days(since, evaluation.at),
                outdated_since=since,
                reason=evaluation.verdicts[(env_id, version_id)].reason,
            )
            for since, instance_id, version_id, name in first
        ]
    return cells, outdated


def snapshot_cells(snapshot: DriftSnapshot) -> tuple[dict, dict]:
    """A stored snapshot as cells, and up to INLINE_OUTDATED outdated assets per cell."""
    cells = {}
    for row in snapshot.rows.all():
        cells[(row.environment_slug or None, row.platform, row.site_slug or None)] = Cell(
            total=row.total,
            compliant=row.compliant,
            outdated=row.outdated,
            unmanaged=row.unmanaged,
            stale=row.stale,
            not_running=row.not_running,
            oldest_drift=(
                snapshot.taken_at - datetime.timedelta(days=row.oldest_drift_days)
                if row.oldest_drift_days is not None
                else None
            ),
        )
    ranked = (
        DriftSnapshotAsset.objects.filter(snapshot=snapshot)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("environment_slug"), F("platform"), F("site_slug")],
                order_by=[F("days_behind").desc(), F("instance_id").asc()],
            )
        )
        .filter(rank__lte=INLINE_OUTDATED)
    )
    outdated: dict[tuple, list[OutdatedAsset]] = {}
    for row in ranked:
        key = (row.environment_slug or None, row.platform, row.site_slug or None)
        outdated.setdefault(key, []).append(
            OutdatedAsset(
                instance_id=row.instance_id,
                name=row.name,
                platform=row.platform,
                environment=row.environment_slug,
                site=row.site_slug,
                version=row.version,
                baseline=row.baseline,
                days_behind=row.days_behind,
                outdated_since=row.outdated_since,
                reason=row.reason,
            )
        )
    return cells, outdated
