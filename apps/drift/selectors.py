"""Reads of drift: the report (live or as of a past date), the outdated list, and the trend from snapshots."""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import asdict, dataclass

from django.db.models import Min, Sum
from django.utils import timezone

from apps.images.models import ChannelAssignment, ImageVersion
from apps.tenancy.models import Environment, Site
from qlrf.cache_generation import cached

from .engine import drift_evaluate, outdated_assets
from .models import DriftSnapshot, DriftSnapshotAsset, DriftSnapshotRow
from .reports import DriftReportSet, build_report_set, live_cells, rag_for, snapshot_cells

PLATFORMS = ("aws", "azure", "gcp", "vsphere")
LIVE_REPORT_TTL = 60  # seconds: drift ages count days, and assets can change outside a finished scan


class DriftQueryError(ValueError):
    """A bad query parameter; ``parameter`` names it, ``code`` and ``status`` make the 4xx answer (ADR 010)."""

    def __init__(self, parameter: str, message: str, *, code: str = "invalid_parameter", status: int = 400):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class DriftFilters:
    environment: str | None = None
    platform: str | None = None
    site: str | None = None

    def validate(self, organization) -> None:
        if (
            self.environment
            and not Environment.objects.filter(organization=organization, slug=self.environment).exists()
        ):
            raise DriftQueryError("env", f"unknown environment {self.environment!r}")
        if self.platform and self.platform not in PLATFORMS:
            raise DriftQueryError("platform", f"unknown platform {self.platform!r}; one of {', '.join(PLATFORMS)}")
        if self.site and not Site.objects.filter(organization=organization, slug=self.site).exists():
            raise DriftQueryError("site", f"unknown site {self.site!r}")

    def keep(self, key: tuple) -> bool:
        environment, platform, site = key
        return (
            (not self.environment or environment == self.environment)
            and (not self.platform or platform == self.platform)
            and (not self.site or site == self.site)
        )


DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_as_of(value: str | None, *, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The instant an ``as_of`` names (UTC), None when absent or when it names the present (answer live).

    ``YYYY-MM-DD`` is the end of that day in UTC, and today's date is now (the day is not over yet). An ISO 8601
    timestamp keeps its offset; one without an offset is UTC. Unparseable: 400 ``invalid_as_of``; after now (or a
    date after today): 400 ``as_of_in_future``.
    """
    if not value:
        return None
    now = now or timezone.now()
    try:
        if DATE_ONLY.fullmatch(value):
            day = datetime.date.fromisoformat(value)
            parsed = datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
        else:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("z", "Z"))
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
            parsed = parsed.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise DriftQueryError(
            "as_of",
            f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 timestamp (2026-03-01T12:00:00+02:00)",
            code="invalid_as_of",
        ) from None
    if DATE_ONLY.fullmatch(value):
        if parsed.date() > now.astimezone(datetime.UTC).date():
            raise DriftQueryError("as_of", f"{value} is after today (UTC)", code="as_of_in_future")
        return None if parsed >= now else parsed  # today: the day is not over, its end-of-day state is now
    if parsed > now:
        raise DriftQueryError(
            "as_of", f"{parsed.isoformat()} is in the future (now is {now.isoformat()})", code="as_of_in_future"
        )
    return parsed


def snapshot_as_of(organization, at: datetime.datetime) -> DriftSnapshot:
    """The snapshot in force at ``at``: the last taken at or before it (id breaks ties within one timestamp).

    404 ``no_snapshot_before`` when none was taken by then.
    """
    snapshot = (
        DriftSnapshot.objects.filter(organization=organization, taken_at__lte=at).order_by("-taken_at", "-id").first()
    )
    if snapshot is None:
        first = DriftSnapshot.objects.filter(organization=organization).order_by("taken_at", "id").first()
        since = f"; the first is from {first.taken_at.isoformat()}" if first else "; none has been taken yet"
        raise DriftQueryError(
            "as_of",
            f"no drift snapshot exists at or before {at.isoformat()}{since}",
            code="no_snapshot_before",
            status=404,
        )
    return snapshot


def drift_as_of(organization, as_of: str | None) -> tuple[datetime.datetime | None, DriftSnapshot | None]:
    """The instant and the snapshot an ``as_of`` parameter resolves to; (None, None) means live."""
    at = parse_as_of(as_of)
    return (at, snapshot_as_of(organization, at)) if at is not None else (None, None)


def drift_live_lifetime(organization) -> int:
    """How long a live report may be reused at most: until the next grace end or scheduled revocation (time
    changes the answer there without any write), and never more than LIVE_REPORT_TTL (drift ages count days)."""
    now = timezone.now()
    boundaries = [
        ChannelAssignment.objects.filter(organization=organization, grace_until__gt=now).aggregate(
            next=Min("grace_until")
        )["next"],
        ImageVersion.objects.filter(organization=organization, revoked_at__gt=now).aggregate(next=Min("revoked_at"))[
            "next"
        ],
    ]
    ends = [(b - now).total_seconds() for b in boundaries if b is not None]
    return max(1, int(min([LIVE_REPORT_TTL, *ends])))


def drift_report_data(organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None) -> dict:
    """``drift_report_build`` as plain data; the live answer comes from ``drift_report_live``."""
    if as_of:
        return asdict(drift_report_build(organization, filters=filters, as_of=as_of))
    return drift_report_live(organization, filters=filters)[0]


def drift_report_live(organization, *, filters: DriftFilters = DriftFilters()) -> tuple[dict, str]:
    """The live report as plain data and its entity tag, reused until the organisation's generation moves.

    Every committed write (scan, promotion, revocation, upload, membership, environment/site) bumps the generation
    (qlrf/cache_generation.py), so a hit needs no query on the fleet; grace ends cut the lifetime
    (drift_live_lifetime). The tag is minted per build: equal tags mean the same cached answer.
    """
    filters.validate(organization)
    parts = (filters.environment, filters.platform, filters.site)

    def build():
        data = asdict(drift_report_build(organization, filters=filters))
        return data, drift_live_lifetime(organization), uuid.uuid4().hex

    data, _, tag = cached(organization, "drift-report", parts, build, lambda hit: hit[1])
    return data, tag


def drift_report_build(
    organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None
) -> DriftReportSet:
    """The DriftReports of an organisation (already restricted by the caller): live, or from the as-of snapshot."""
    filters.validate(organization)
    at, snapshot = drift_as_of(organization, as_of)
    if snapshot is not None:
        cells, outdated = snapshot_cells(snapshot)
        source, snapshot_id, calculated_at = "snapshot", snapshot.pk, snapshot.taken_at
    else:
        evaluation = drift_evaluate(organization)
        cells, outdated = live_cells(organization, evaluation)
        source, snapshot_id, calculated_at = "live", None, evaluation.at
    cells = {key: cell for key, cell in cells.items() if filters.keep(key)}
    outdated = {key: rows for key, rows in outdated.items() if filters.keep(key)}
    return build_report_set(
        organization,
        cells,
        calculated_at,
        source=source,
        snapshot_id=snapshot_id,
        outdated_by_cell=outdated,
        as_of=at,
        snapshot_trigger=snapshot.trigger if snapshot else None,
    )


def drift_outdated_list(
    organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None, descending: bool = True
):
    """Outdated assets, sortable by days behind: a queryset of DriftSnapshotAsset (as of) or of live Asset rows."""
    filters.validate(organization)
    _, snapshot = drift_as_of(organization, as_of)
    if snapshot is not None:
        rows = DriftSnapshotAsset.objects.filter(snapshot=snapshot)
        for field, value in (
            ("environment_slug", filters.environment),
            ("platform", filters.platform),
            ("site_slug", filters.site),
        ):
            if value:
                rows = rows.filter(**{field: value})
        return "snapshot", rows.order_by("-days_behind" if descending else "days_behind", "instance_id", "pk"), None
    evaluation = drift_evaluate(organization)
    assets = outdated_assets(organization, evaluation)
    for field, value in (
        ("environment__slug", filters.environment),
        ("platform", filters.platform),
        ("site__slug", filters.site),
    ):
        if value:
            assets = assets.filter(**{field: value})
    order = "outdated_since" if descending else "-outdated_since"
    return "live", assets.order_by(order, "instance_id"), evaluation


def drift_trend(
    organization,
    *,
    environment: str | None,
    start: datetime.date,
    end: datetime.date,
    interval: str = "day",
    as_of: datetime.datetime | None = None,
) -> list[dict]:
    """Coverage per environment over time: the last snapshot of each day (or ISO week) in [start, end].

    With ``as_of`` nothing taken after that instant counts: the last point is the snapshot in force then.
    """
    if start > end:
        raise DriftQueryError("from", "from is after to")
    if interval not in ("day", "week"):
        raise DriftQueryError("interval", "interval must be day or week")
    if environment:
        DriftFilters(environment=environment).validate(organization)
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=datetime.UTC)
    finish = datetime.datetime.combine(end, datetime.time.max, tzinfo=datetime.UTC)
    if as_of is not None:
        finish = min(finish, as_of)
    last_in_bucket: dict[str, tuple[datetime.datetime, int]] = {}
    for pk, taken_at in (
        DriftSnapshot.objects.filter(organization=organization, taken_at__range=(begin, finish))
        .order_by("taken_at", "id")
        .values_list("id", "taken_at")
    ):
        bucket = taken_at.date().isoformat() if interval == "day" else "{}-W{:02d}".format(*taken_at.isocalendar()[:2])
        last_in_bucket[bucket] = (taken_at, pk)
    rows = DriftSnapshotRow.objects.filter(snapshot_id__in=[pk for _, pk in last_in_bucket.values()])
    if environment:
        rows = rows.filter(environment_slug=environment)
    sums = rows.values("snapshot_id", "environment_slug").annotate(
        compliant=Sum("compliant"), outdated=Sum("outdated"), unmanaged=Sum("unmanaged"), total=Sum("total")
    )
    by_snapshot: dict[int, list] = {}
    for row in sums:
        by_snapshot.setdefault(row["snapshot_id"], []).append(row)
    points = []
    for bucket, (taken_at, pk) in sorted(last_in_bucket.items()):
        for row in sorted(by_snapshot.get(pk, []), key=lambda r: r["environment_slug"]):
            denominator = row["compliant"] + row["outdated"] + row["unmanaged"]
            coverage = round(100.0 * row["compliant"] / denominator, 2) if denominator else None
            points.append(
                {
                    "bucket": bucket,
                    "taken_at": taken_at,
                    "snapshot_id": pk,
                    "environment": row["environment_slug"],
                    "coverage_pct": coverage,
                    "drift_pct": None if coverage is None else round(100.0 - coverage, 2),
                    "compliant": row["compliant"],
                    "outdated": row["outdated"],
                    "unmanaged": row["unmanaged"],
                    "total": row["total"],
                    "rag": rag_for(organization, coverage),
                }
            )
    return points
