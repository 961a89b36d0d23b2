"""Reads of drift: the report (live or as of a past date), the outdated list, and the trend from snapshots."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from apps.images.models import ChannelAssignment, ImageArtifact, ImageVersion
from apps.inventory.models import ScanRun
from apps.tenancy.models import Environment, Site

from .engine import FINISHED, drift_evaluate, outdated_assets
from .models import DriftSnapshot, DriftSnapshotAsset, DriftSnapshotRow
from .reports import DriftReportSet, build_report_set, live_cells, rag_for, snapshot_cells

PLATFORMS = ("aws", "azure", "gcp", "vsphere")
LIVE_REPORT_TTL = 60  # seconds: drift ages count days, and assets can change outside a finished scan


class DriftQueryError(ValueError):
    """A bad query parameter; ``parameter`` names it for the 4xx answer."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


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


def parse_as_of(value: str | None) -> datetime.datetime | None:
    """``YYYY-MM-DD`` (end of that day, UTC) or an ISO 8601 timestamp; None when absent."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            return datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DriftQueryError("as_of", f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def snapshot_as_of(organization, at: datetime.datetime) -> DriftSnapshot:
    """The latest snapshot taken at or before ``at``; DriftQueryError for the future or before the first one."""
    if at > timezone.now() + datetime.timedelta(days=1):
        raise DriftQueryError("as_of", "as_of is in the future")
    snapshot = DriftSnapshot.objects.filter(organization=organization, taken_at__lte=at).order_by("-taken_at").first()
    if snapshot is None:
        first = DriftSnapshot.objects.filter(organization=organization).order_by("taken_at").first()
        since = f"; the first is from {first.taken_at:%Y-%m-%d %H:%M} UTC" if first else "; none has been taken yet"
        raise DriftQueryError("as_of", f"no drift snapshot exists at or before {at:%Y-%m-%d %H:%M} UTC{since}")
    return snapshot


def drift_live_stamp(organization) -> tuple[tuple, int]:
    """What a live report depends on (compared for equality), and how long it may be cached at most.

    Small indexed reads (~1 ms): the latest finished scan, the channel assignments, the artifacts, the versions'
    revocations, environment and site slugs. An entry also ends at the next grace end or scheduled revocation.
    """
    now = timezone.now()
    assignments = ChannelAssignment.objects.filter(organization=organization).aggregate(
        last=Max("id"), next=Min("grace_until", filter=Q(grace_until__gt=now))
    )
    versions = ImageVersion.objects.filter(organization=organization)
    stamp = (
        ScanRun.objects.filter(organization=organization, status__in=FINISHED).aggregate(last=Max("id"))["last"],
        assignments["last"],
        tuple(
            ImageArtifact.objects.filter(organization=organization).aggregate(n=Count("id"), last=Max("id")).values()
        ),
        tuple(versions.exclude(revoked_at=None).order_by("id").values_list("id", "revoked_at")),
        tuple(Environment.objects.filter(organization=organization).order_by("id").values_list("id", "slug")),
        tuple(Site.objects.filter(organization=organization).order_by("id").values_list("id", "slug")),
    )
    boundaries = [assignments["next"], versions.filter(revoked_at__gt=now).aggregate(next=Min("revoked_at"))["next"]]
    ends = [(b - now).total_seconds() for b in boundaries if b is not None]
    return stamp, max(1, int(min([LIVE_REPORT_TTL, *ends])))


def drift_report_data(organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None) -> dict:
    """``drift_report_build`` as plain data; the live answer is reused while nothing it depends on has changed.

    The cache entry is keyed by organisation and filters and carries ``drift_live_stamp``: a scan, a promotion, a
    revocation, a new artifact or a renamed environment/site gives a new stamp, and grace ends cut the lifetime.
    """
    if as_of:
        return asdict(drift_report_build(organization, filters=filters, as_of=as_of))
    filters.validate(organization)
    stamp, timeout = drift_live_stamp(organization)
    key = f"drift-report:{organization.pk}:{filters.environment}:{filters.platform}:{filters.site}"
    hit = cache.get(key)
    if hit is None or hit[0] != stamp:
        hit = (stamp, asdict(drift_report_build(organization, filters=filters)))
        cache.set(key, hit, timeout)
    return hit[1]


def drift_report_build(
    organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None
) -> DriftReportSet:
    """The DriftReports of an organisation (already restricted by the caller): live, or from the as-of snapshot."""
    filters.validate(organization)
    at = parse_as_of(as_of)
    if at is not None and at.date() < timezone.now().date():
        snapshot = snapshot_as_of(organization, at)
        cells, outdated = snapshot_cells(snapshot)
        source, snapshot_id, calculated_at = "snapshot", snapshot.pk, snapshot.taken_at
    else:
        if at is not None and at > timezone.now() + datetime.timedelta(days=1):
            raise DriftQueryError("as_of", "as_of is in the future")
        evaluation = drift_evaluate(organization)
        cells, outdated = live_cells(organization, evaluation)
        source, snapshot_id, calculated_at = "live", None, evaluation.at
    cells = {key: cell for key, cell in cells.items() if filters.keep(key)}
    outdated = {key: rows for key, rows in outdated.items() if filters.keep(key)}
    return build_report_set(
        organization, cells, calculated_at, source=source, snapshot_id=snapshot_id, outdated_by_cell=outdated
    )


def drift_outdated_list(
    organization, *, filters: DriftFilters = DriftFilters(), as_of: str | None = None, descending: bool = True
):
    """Outdated assets, sortable by days behind: a queryset of DriftSnapshotAsset (as of) or of live Asset rows."""
    filters.validate(organization)
    at = parse_as_of(as_of)
    if at is not None and at.date() < timezone.now().date():
        rows = DriftSnapshotAsset.objects.filter(snapshot=snapshot_as_of(organization, at))
        for field, value in (
            ("environment_slug", filters.environment),
            ("platform", filters.platform),
            ("site_slug", filters.site),
        ):
            if value:
                rows = rows.filter(**{field: value})
        return "snapshot", rows.order_by("-days_behind" if descending else "days_behind", "instance_id"), None
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
    organization, *, environment: str | None, start: datetime.date, end: datetime.date, interval: str = "day"
) -> list[dict]:
    """Coverage per environment over time: the last snapshot of each day (or ISO week) in [start, end]."""
    if start > end:
        raise DriftQueryError("from", "from is after to")
    if interval not in ("day", "week"):
        raise DriftQueryError("interval", "interval must be day or week")
    if environment:
        DriftFilters(environment=environment).validate(organization)
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=datetime.UTC)
    finish = datetime.datetime.combine(end, datetime.time.max, tzinfo=datetime.UTC)
    last_in_bucket: dict[str, tuple[datetime.datetime, int]] = {}
    for pk, taken_at in (
        DriftSnapshot.objects.filter(organization=organization, taken_at__range=(begin, finish))
        .order_by("taken_at")
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
