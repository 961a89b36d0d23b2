"""The drift engine: classify the running fleet at a moment T, set-based.

One GROUP BY over the organisation's assets (environment, platform, site, image version, stale) gives a few hundred
groups; each group's status comes from the channel timelines (small, in memory); cells and roll-ups are sums of
groups. The outdated assets themselves are listed by one filtered query. No Python loop over assets.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Case, Count, DateTimeField, Max, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.images.models import ChannelAssignment, ImageVersion
from apps.inventory.models import Asset, ScanRun, ScanScope

from .choices import NOT_RUNNING_STATES
from .timeline import Assignment, ChannelTimeline, Verdict, VersionInfo, no_channel_verdict

FINISHED = ("succeeded", "partial", "failed")


@dataclass
class Cell:
    """Counts for one (environment, platform, site) cell, or a roll-up of cells."""

    total: int = 0
    compliant: int = 0
    outdated: int = 0
    unmanaged: int = 0
    stale: int = 0
    not_running: int = 0
    oldest_drift: datetime.datetime | None = None

    def add(self, other: Cell) -> None:
        for name in ("total", "compliant", "outdated", "unmanaged", "stale", "not_running"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.oldest_drift and (self.oldest_drift is None or other.oldest_drift < self.oldest_drift):
            self.oldest_drift = other.oldest_drift

    @property
    def coverage_pct(self) -> float | None:
        """compliant / (compliant + outdated + unmanaged); stale machines are excluded, stopped ones count unless the
        organisation leaves them out (``coverage_excludes_not_running``)."""
        denominator = self.compliant + self.outdated + self.unmanaged
        return round(100.0 * self.compliant / denominator, 2) if denominator else None


@dataclass
class Evaluation:
    at: datetime.datetime
    cells: dict[tuple[int | None, str, int | None], Cell] = field(default_factory=dict)
    verdicts: dict[tuple[int | None, int], Verdict] = field(default_factory=dict)  # (env, version) → verdict
    labels: dict[int, str] = field(default_factory=dict)  # version id → family@version
    stale: Q = field(default_factory=Q)  # which assets were stale at ``at`` (see ``stale_condition``)
    excludes_not_running: bool = False  # the organisation leaves stopped machines out of coverage
    # (environment, platform, site, version) groups holding outdated assets: where ``first_outdated`` looks
    outdated_groups: set[tuple[int | None, str, int | None, int]] = field(default_factory=set)


class Rules:
    """Channel timelines and version facts of one organisation, loaded once per evaluation."""

    def __init__(self, organization, at: datetime.datetime):
        self.at = at
        self.versions = {
            pk: VersionInfo(pk, family_id, key, f"{slug}@{version}", revoked_at)
            for pk, family_id, key, slug, version, revoked_at in ImageVersion.objects.filter(
                organization=organization
            ).values_list("id", "family_id", "version_key", "family__slug", "version", "revoked_at")
        }
        timelines: dict[tuple[int, int], list[Assignment]] = defaultdict(list)
        for family_id, env_id, at_, from_id, to_id, grace in ChannelAssignment.objects.filter(
            organization=organization, assigned_at__lte=at
        ).values_list(
            "channel__family_id",
            "channel__environment_id",
            "assigned_at",
            "from_version_id",
            "to_version_id",
            "grace_until",
        ):
            timelines[(family_id, env_id)].append(Assignment(at_, from_id, to_id, grace))
        self.timelines = {key: ChannelTimeline(value) for key, value in timelines.items()}
        self._cache: dict[tuple[int | None, int], Verdict] = {}

    def verdict(self, environment_id: int | None, version_id: int) -> Verdict:
        key = (environment_id, version_id)
        if key not in self._cache:
            version = self.versions[version_id]
            timeline = self.timelines.get((version.family_id, environment_id))
            self._cache[key] = (
                timeline.verdict(version, self.at, self.versions) if timeline else no_channel_verdict(version, self.at)
            )
        return self._cache[key]


def stale_condition(organization, at: datetime.datetime) -> Q:
    """Stale: not seen by the latest finished scan of its connector (a scope that failed there, or whose removals it
    withheld).

    Unchanged assets are not written (ADR 026): an asset not written since the scan started was still seen by it when
    its scope ``succeeded`` there (the scope saw every live asset it did not remove). The latest scan per connector
    and its succeeded scopes are a handful of rows read once; a correlated subquery would run once per asset.
    """
    latest = (
        ScanRun.objects.filter(organization=organization, status__in=FINISHED, started_at__lte=at)
        .values("connector_id")
        .annotate(started=Max("started_at"))
        .order_by()
    )
    starts = {row["connector_id"]: row["started"] for row in latest}
    complete: dict[int, set[str]] = defaultdict(set)
    if starts:
        runs = Q(pk__in=[])
        for connector_id, started in starts.items():
            runs |= Q(run__connector_id=connector_id, run__started_at=started)
        for connector_id, key in (
            ScanScope.objects.filter(runs, run__status__in=FINISHED, status="succeeded")
            .values_list("run__connector_id", "key")
            .distinct()
        ):
            complete[connector_id].add(key)
    condition = Q(pk__in=[])
    for connector_id, started in starts.items():
        unseen = Q(connector_id=connector_id, last_seen__lt=started)
        if complete[connector_id]:
            unseen &= ~Q(scope_key__in=sorted(complete[connector_id]))
        condition |= unseen
    return condition


def fleet_at(organization, at: datetime.datetime, stale: Q | None = None):
    """The organisation's assets as they stood at ``at`` (seen by then, not yet removed), with a ``stale`` flag."""
    stale = stale_condition(organization, at) if stale is None else stale
    return (
        Asset.objects.filter(organization=organization, first_seen__lte=at)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at))
        .annotate(stale=Case(When(stale, then=Value(True)), default=Value(False), output_field=BooleanField()))
    )


def drift_evaluate(organization, at: datetime.datetime | None = None) -> Evaluation:
    """Classify the fleet at ``at`` (default now) into cells of (environment, platform, site)."""
    at = at or timezone.now()
    rules = Rules(organization, at)
    evaluation = Evaluation(
        at=at, labels={pk: info.label for pk, info in rules.versions.items()}, stale=stale_condition(organization, at)
    )
    groups = (
        fleet_at(organization, at, evaluation.stale)
        .annotate(running=Case(When(state__in=NOT_RUNNING_STATES, then=Value(False)), default=Value(True)))
        .values("environment_id", "platform", "site_id", "image_version_id", "stale", "running")
        .annotate(n=Count("id"))
        .order_by()
    )
    excludes_not_running = evaluation.excludes_not_running = organization.coverage_excludes_not_running
    for group in groups:
        cell = evaluation.cells.setdefault((group["environment_id"], group["platform"], group["site_id"]), Cell())
        count = group["n"]
        cell.total += count
        if not group["running"]:
            cell.not_running += count  # how many of the cell's machines are not running (they are classified too)
            if excludes_not_running:  # the organisation's other view: left out of coverage
                continue
        if group["stale"]:
            cell.stale += count
        elif group["image_version_id"] is None:
            cell.unmanaged += count
        else:
            verdict = rules.verdict(group["environment_id"], group["image_version_id"])
            evaluation.verdicts[(group["environment_id"], group["image_version_id"])] = verdict
            if verdict.compliant:
                cell.compliant += count
            else:
                cell.outdated += count
                evaluation.outdated_groups.add(
                    (group["environment_id"], group["platform"], group["site_id"], group["image_version_id"])
                )
                if cell.oldest_drift is None or verdict.outdated_since < cell.oldest_drift:
                    cell.oldest_drift = verdict.outdated_since
    return evaluation


def outdated_assets(organization, evaluation: Evaluation):
    """The outdated assets of an evaluation (stopped ones too, unless the organisation leaves them out of coverage),
    annotated with ``outdated_since`` and ``running``: one query."""
    outdated = {key: v for key, v in evaluation.verdicts.items() if not v.compliant}
    if not outdated:
        return Asset.objects.annotate(
            outdated_since=Value(None, output_field=DateTimeField()), running=Value(True, output_field=BooleanField())
        ).none()
    pairs = Q()
    whens = []
    for (env_id, version_id), verdict in outdated.items():
        condition = Q(environment_id=env_id, image_version_id=version_id)
        pairs |= condition
        whens.append(When(condition, then=Value(verdict.outdated_since)))
    rows = fleet_at(organization, evaluation.at, evaluation.stale).filter(pairs, stale=False)
    if organization.coverage_excludes_not_running:
        rows = rows.exclude(state__in=NOT_RUNNING_STATES)
    return rows.annotate(
        outdated_since=Case(*whens, output_field=DateTimeField()),
        running=Case(
            When(state__in=NOT_RUNNING_STATES, then=Value(False)), default=Value(True), output_field=BooleanField()
        ),
    ).select_related("environment", "site", "image_version__family")


def first_outdated(organization, evaluation: Evaluation, limit: int) -> dict[tuple, list[tuple]]:
    """Per cell (environment id, platform, site id), its first ``limit`` outdated assets by (outdated since, instance
    id), as ``(outdated_since, instance_id, version_id, name)``.

    Within a (cell, version) group every asset has the same ``outdated_since``, so a cell's first assets are the
    first ``limit`` by instance id of each of its groups, merged: ``ORDER BY instance_id LIMIT n`` per group, an index
    range scan (``asset_cell_version``) instead of a second pass over the fleet. On PostgreSQL all groups go in one
    statement (a ``LATERAL`` join over the groups, per kind of missing environment/site: at most four statements, the
    group query compiled once each); elsewhere (the embedded SQLite default, small fleets) one query per group.
    """
    base = fleet_at(organization, evaluation.at, evaluation.stale).filter(stale=False)
    if evaluation.excludes_not_running:
        base = base.exclude(state__in=NOT_RUNNING_STATES)
    groups = sorted(evaluation.outdated_groups, key=repr)
    rows = _lateral_rows(base, groups, limit) if connection.vendor == "postgresql" else _group_rows(base, groups, limit)
    by_cell: dict[tuple, list[tuple]] = defaultdict(list)
    for env_id, platform, site_id, version_id, instance_id, name in rows:
        since = evaluation.verdicts[(env_id, version_id)].outdated_since
        by_cell[(env_id, platform, site_id)].append((since, instance_id, version_id, name))
    return {cell: sorted(found)[:limit] for cell, found in by_cell.items()}


def _group_rows(base, groups: list[tuple], limit: int):
    for env_id, platform, site_id, version_id in groups:
        first = base.filter(environment_id=env_id, platform=platform, site_id=site_id, image_version_id=version_id)
        for instance_id, name in first.order_by("instance_id").values_list("instance_id", "name")[:limit]:
            yield env_id, platform, site_id, version_id, instance_id, name


def _lateral_rows(base, groups: list[tuple], limit: int):
    """``(VALUES groups) g CROSS JOIN LATERAL (the group's first assets)``, the group query compiled once by the ORM
    with the group's columns as references to ``g``; a missing environment or site is ``IS NULL`` (an index lookup),
    so groups are sent in one statement per combination of missing ones."""
    kinds: dict[tuple[bool, bool], list[tuple]] = defaultdict(list)
    for group in groups:
        kinds[(group[0] is None, group[2] is None)].append(group)
    for (no_env, no_site), members in kinds.items():
        inner = base.filter(platform=RawSQL("g.platform", []), image_version_id=RawSQL("g.version", []))
        inner = inner.filter(environment__isnull=True) if no_env else inner.filter(environment_id=RawSQL("g.env", []))
        inner = inner.filter(site__isnull=True) if no_site else inner.filter(site_id=RawSQL("g.site", []))
        inner_sql, inner_params = (
            inner.order_by("instance_id").values_list("instance_id", "name")[:limit].query.sql_with_params()
        )
        values = ", ".join(["(%s::bigint, %s::text, %s::bigint, %s::bigint)"] * len(members))
        # only placeholders and the ORM's compiled SQL are formatted in; every value is a parameter
        sql = (
            "SELECT g.env, g.platform, g.site, g.version, found.instance_id, found.name "  # noqa: S608
            f"FROM (VALUES {values}) AS g(env, platform, site, version) CROSS JOIN LATERAL ({inner_sql}) AS found"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for member in members for value in member] + list(inner_params))
            yield from cursor.fetchall()
