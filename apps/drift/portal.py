"""Reads behind the portal pages: heatmaps, the asset status annotation, what changed this week, trend ranges."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, CharField, DateTimeField, Q, Value, When
from django.utils import timezone

from apps.images.models import ChannelAssignment, ImageVersion
from apps.tenancy.models import Environment, Site

from .choices import NOT_RUNNING_STATES, DriftStatusChoices
from .engine import Cell, Evaluation, outdated_assets
from .models import DriftSnapshot, DriftSnapshotAsset
from .reports import DriftReportSet, rag_for
from .selectors import PLATFORMS, DriftQueryError

NOT_RUNNING = "not_running"
STATUS_LABELS = {**dict(DriftStatusChoices.choices), NOT_RUNNING: "Not running"}
WEEK = datetime.timedelta(days=7)
NO_DATE = Value(None, output_field=DateTimeField())
RANGES = {"7d": 7, "30d": 30, "90d": 90, "13m": 396}


# --- heatmaps ---------------------------------------------------------------------------------------------------


@dataclass
class HeatCell:
    """One heatmap cell: counts, coverage, RAG, and the asset-list query it drills down to."""

    row: str
    column: str
    cell: Cell
    rag: str | None
    query: str
    why: str = ""  # the insights page's query for this cell (its "Why?" drill-down)

    @property
    def coverage(self) -> float | None:
        return self.cell.coverage_pct


@dataclass
class Heatmap:
    title: str
    row_label: str
    rows: list[tuple[str, str]]  # (slug, label)
    columns: list[tuple[str, str]]
    grid: list[tuple[tuple[str, str], list[HeatCell]]] = field(default_factory=list)


def _as_cell(report) -> Cell:
    return Cell(
        total=report.total_assets,
        compliant=report.compliant_assets,
        outdated=report.outdated_count,
        unmanaged=report.unmanaged_count,
        stale=report.stale_count,
        not_running=report.not_running_count,
    )


def heatmap_build(organization, report_set: DriftReportSet, *, by: str, user) -> Heatmap:
    """Coverage of (site | platform) × environment from a report set's cells; every visible row and column shown."""
    environments = list(
        Environment.objects.restrict(user, "view").filter(organization=organization).values_list("slug", "name")
    )
    if by == "site":
        rows = list(Site.objects.restrict(user, "view").filter(organization=organization).values_list("slug", "name"))
        index, title, row_label = 2, "Coverage by site and environment", "Site"
    else:
        rows = [(p, p) for p in PLATFORMS]
        index, title, row_label = 1, "Coverage by platform and environment", "Platform"
    cells: dict[tuple, Cell] = {}
    for report in report_set.reports:
        key = (report.site if index == 2 else report.platform, report.environment)
        cells.setdefault(key, Cell()).add(_as_cell(report))
    heatmap = Heatmap(title=title, row_label=row_label, rows=rows, columns=environments)
    param = "site" if index == 2 else "platform"
    for row in rows:
        line = []
        for column in environments:
            cell = cells.get((row[0], column[0]), Cell())
            rag = rag_for(organization, cell.coverage_pct)
            status = "&status=outdated" if cell.outdated else ""
            query = f"environment={column[0]}&{param}={row[0]}{status}"
            line.append(HeatCell(row[0], column[0], cell, rag, query, f"env={column[0]}&{param}={row[0]}"))
        heatmap.grid.append((row, line))
    return heatmap


# --- the status of each asset, as SQL --------------------------------------------------------------------------


def annotate_status(queryset, evaluation: Evaluation):
    """Annotate ``drift_status`` and ``outdated_since`` from the engine's verdicts: one expression, no Python loop.

    Mirrors ``engine.drift_evaluate``: not running (only where the organisation leaves stopped machines out of
    coverage), then stale, then unmanaged, then the (environment, version) verdict.
    """
    outdated = {key: verdict for key, verdict in evaluation.verdicts.items() if not verdict.compliant}
    pairs = [(Q(environment_id=env_id, image_version_id=version_id), v) for (env_id, version_id), v in outdated.items()]
    excluded = [(Q(state__in=NOT_RUNNING_STATES), NOT_RUNNING)] if evaluation.excludes_not_running else []
    excluded += [
        (evaluation.stale, DriftStatusChoices.STALE.value),
        (Q(image_version__isnull=True), DriftStatusChoices.UNMANAGED.value),
    ]
    since = [When(condition, then=NO_DATE) for condition, _ in excluded[:-1]] + [
        When(condition, then=Value(verdict.outdated_since)) for condition, verdict in pairs
    ]
    status_whens = [When(condition, then=Value(status)) for condition, status in excluded] + [
        When(condition, then=Value(DriftStatusChoices.OUTDATED.value)) for condition, _ in pairs
    ]
    return queryset.annotate(
        drift_status=Case(*status_whens, default=Value(DriftStatusChoices.COMPLIANT.value), output_field=CharField()),
        outdated_since=Case(*since, default=NO_DATE, output_field=DateTimeField()),
    )


def days_behind(since: datetime.datetime | None, at: datetime.datetime) -> int | None:
    return max(0, (at - since).days) if since else None


def baseline_for(evaluation: Evaluation, asset) -> str:
    """The baseline label of an asset's (environment, version), when the engine evaluated one."""
    verdict = evaluation.verdicts.get((asset.environment_id, asset.image_version_id))
    return verdict.baseline if verdict else ""


# --- what changed this week -------------------------------------------------------------------------------------


@dataclass
class WeekChanges:
    new_drift: int
    outdated_now: int
    week_ago: DriftSnapshot | None
    outdated_week_ago: int | None
    remediated: int | None
    promotions: list
    revocations: list


def week_changes(user, organization, evaluation: Evaluation, outdated_now: int) -> WeekChanges:
    """New drift, remediations against the snapshot a week ago, promotions and revocations of the last 7 days."""
    now = evaluation.at
    current = outdated_assets(organization, evaluation)
    new_drift = current.filter(outdated_since__gte=now - WEEK).count()
    week_ago = (
        DriftSnapshot.objects.restrict(user, "view")
        .filter(organization=organization, taken_at__lte=now - WEEK)
        .order_by("-taken_at", "-id")
        .first()
    )
    outdated_then = remediated = None
    if week_ago is not None:
        outdated_then = sum(week_ago.rows.values_list("outdated", flat=True))
        then_assets = DriftSnapshotAsset.objects.filter(snapshot=week_ago)
        remediated = then_assets.exclude(asset_id__in=current.values("pk")).count()
    promotions = list(
        ChannelAssignment.objects.restrict(user, "view")
        .filter(organization=organization, assigned_at__gte=now - WEEK, assigned_at__lte=now)
        .select_related("channel__family", "channel__environment", "from_version", "to_version")
        .order_by("-assigned_at")
    )
    revocations = list(
        ImageVersion.objects.restrict(user, "view")
        .filter(organization=organization, revoked_at__gte=now - WEEK, revoked_at__lte=now)
        .select_related("family")
        .order_by("-revoked_at")
    )
    return WeekChanges(new_drift, outdated_now, week_ago, outdated_then, remediated, promotions, revocations)


# --- trend ranges -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRange:
    key: str
    start: datetime.date
    end: datetime.date
    interval: str


def trend_range(key: str | None, start: str | None, end: str | None, today: datetime.date | None = None) -> TrendRange:
    """``7d``/``30d``/``90d``/``13m`` ending today, or ``custom`` from/to (YYYY-MM-DD); DriftQueryError when bad."""
    today = today or timezone.now().date()
    key = key or "30d"
    if key == "custom":
        try:
            begin, finish = datetime.date.fromisoformat(start or ""), datetime.date.fromisoformat(end or "")
        except ValueError:
            raise DriftQueryError("from", "a custom range needs from and to as YYYY-MM-DD") from None
        if begin > finish:
            raise DriftQueryError("from", "from is after to")
        interval = "week" if (finish - begin).days > 120 else "day"
        return TrendRange(key, begin, finish, interval)
    if key not in RANGES:
        raise DriftQueryError("range", f"unknown range {key!r}; one of {', '.join(RANGES)} or custom")
    return TrendRange(key, today - datetime.timedelta(days=RANGES[key]), today, "week" if key == "13m" else "day")


def week_over_week(points: list[dict]) -> list[dict]:
    """Per environment: the latest coverage, the coverage 7 days before it (or the nearest older point), the change."""
    by_env: dict[str, list[dict]] = {}
    for point in points:
        by_env.setdefault(point["environment"], []).append(point)
    rows = []
    for environment, series in sorted(by_env.items()):
        latest = series[-1]
        cutoff = latest["taken_at"] - WEEK
        earlier = [p for p in series if p["taken_at"] <= cutoff + datetime.timedelta(hours=12)]
        before = earlier[-1] if earlier else None
        change = None
        if before and before["coverage_pct"] is not None and latest["coverage_pct"] is not None:
            change = round(latest["coverage_pct"] - before["coverage_pct"], 2)
        rows.append({"environment": environment or "—", "now": latest, "before": before, "change": change})
    return rows
