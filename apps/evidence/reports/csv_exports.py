"""CSV exports, streamed row by row (``.iterator()`` over querysets, never a list of the whole result).

Each export is registered by kind and takes (organization, user, params); ``params`` are the same query parameters
the portal lists and the API accept. A bad parameter raises ``DriftQueryError`` naming it (a 400 for the caller).
"""

from __future__ import annotations

import csv
import datetime
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass

from apps.compliance.filtersets import SignatureVerificationFilterSet
from apps.compliance.models import SignatureVerification
from apps.compliance.selectors import version_badges_for
from apps.drift.models import DriftOutdatedEntry, DriftSnapshotAsset
from apps.drift.outdated import outdated_build_current, outdated_entry_row
from apps.drift.reports import outdated_asset
from apps.drift.selectors import (
    DriftFilters,
    DriftQueryError,
    drift_as_of,
    drift_outdated_list,
    drift_report_build,
)
from apps.images.filtersets import ImageVersionFilterSet
from apps.images.models import ImageVersion
from apps.inventory.filtersets import AssetFilterSet
from apps.inventory.models import Asset
from apps.inventory.services.seen import Sightings

from ..selectors import visible
from . import csv_copy
from .csv_copy import CopySource

CHUNK = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
GROUPINGS = {"cell": "reports", "environment": "by_environment", "platform": "by_platform", "site": "by_site"}


@dataclass(frozen=True)
class Export:
    """One CSV export: its header and a row iterator."""

    filename: str
    header: list[str]
    rows: Iterable[list]
    provenance: dict | None = None  # drift exports: source, snapshot id and time, as_of (sent as HTTP headers)
    copy: CopySource | None = None  # the same rows as one SELECT, streamed by COPY on PostgreSQL (csv_copy.py)


EXPORTS: dict[str, Callable[..., Export]] = {}


def register_export(kind: str):
    """Register an export under ``kind`` (a duplicate registration raises)."""

    def decorator(func):
        if kind in EXPORTS:
            raise ValueError(f"CSV export {kind!r} is already registered")
        EXPORTS[kind] = func
        return func

    return decorator


def export_build(kind: str, organization, *, user, params) -> Export:
    """The export of ``kind`` for ``organization`` as seen by ``user`` (None: the installation)."""
    if kind not in EXPORTS:
        raise DriftQueryError("kind", f"unknown report {kind!r}; one of {', '.join(sorted(EXPORTS))}")
    return EXPORTS[kind](organization, user=user, params=params)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value  # a spreadsheet must never evaluate a name or tag as a formula
    return value


class _Line:
    """A file-like that returns what is written to it (csv.writer → one encoded line at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """The CSV as encoded lines: the header, then one line per row (UTF-8 with a BOM for spreadsheets)."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow(header)).encode()
    for row in rows:
        yield writer.writerow([_cell(value) for value in row]).encode()


def export_lines(export: Export) -> Iterator[bytes]:
    """The export's CSV lines: from PostgreSQL's COPY when it has a SELECT and runs there, else the Python writer."""
    if export.copy is not None and csv_copy.available():
        return csv_copy.copy_lines(next(csv_lines(export.header, ())), export.copy)
    return csv_lines(export.header, export.rows)


def _filters(params) -> DriftFilters:
    return DriftFilters(
        environment=params.get("env") or None, platform=params.get("platform") or None, site=params.get("site") or None
    )


def _filterset(filterset_class, params, queryset, user, organization):
    filterset = filterset_class(params, queryset=queryset, user=user, organization=organization)
    if not filterset.is_valid():
        name, errors = next(iter(filterset.errors.items()))
        raise DriftQueryError(name, f"{name}: {' '.join(errors)}")
    return filterset.qs


DRIFT_HEADER = [
    "environment",
    "platform",
    "site",
    "total_assets",
    "compliant_assets",
    "outdated_count",
    "unmanaged_count",
    "stale_count",
    "not_running_count",
    "coverage_pct",
    "rag",
    "oldest_drift_days",
    "calculated_at",
]


def drift_rows(reports) -> Iterator[list]:
    for r in reports:
        yield [
            r.environment,
            r.platform,
            r.site,
            r.total_assets,
            r.compliant_assets,
            r.outdated_count,
            r.unmanaged_count,
            r.stale_count,
            r.not_running_count,
            r.coverage_pct,
            r.rag,
            r.oldest_drift_days,
            r.calculated_at,
        ]


@register_export("drift")
def drift_export(organization, *, user, params) -> Export:
    """DriftReports per cell (``by=cell``, default) or rolled up by environment, platform or site, plus the total."""
    grouping = params.get("by") or "cell"
    if grouping not in GROUPINGS:
        raise DriftQueryError("by", f"by must be one of {', '.join(GROUPINGS)}")
    report = drift_report_build(organization, filters=_filters(params), as_of=params.get("as_of"))
    rows = itertools.chain(drift_rows(getattr(report, GROUPINGS[grouping])), drift_rows([report.total]))
    provenance = _provenance(report.source, report.snapshot_id, report.snapshot_taken_at, report.as_of)
    return Export(f"drift-{organization.slug}.csv", DRIFT_HEADER, rows, provenance)


def _provenance(source, snapshot_id, taken_at, as_of) -> dict:
    return {"source": source, "snapshot_id": snapshot_id, "snapshot_taken_at": taken_at, "as_of": as_of}


OUTDATED_HEADER = [
    "instance_id",
    "name",
    "platform",
    "environment",
    "site",
    "version",
    "baseline",
    "days_behind",
    "outdated_since",
    "reason",
    "running",
]


def outdated_rows(source: str, rows, evaluation) -> Iterator[list]:
    """Outdated assets from a snapshot (DriftSnapshotAsset rows) or live (Asset rows with their verdicts)."""
    for row in rows.iterator(chunk_size=CHUNK):
        yield list(astuple(outdated_asset(row, source, evaluation)))


OUTDATED_TEXT = ("instance_id", "name", "platform", "environment_slug", "site_slug", "version", "baseline")
SLUG_FILTERS = (("environment_slug", "env"), ("platform", "platform"), ("site_slug", "site"))


def _outdated_copy(table: str, key: str, key_id: int, days: str, order: str, filters: DriftFilters) -> CopySource:
    """The outdated export as one SELECT over a frozen build or a snapshot: the Python path's rows and order."""
    wanted = {"env": filters.environment, "platform": filters.platform, "site": filters.site}
    where = " ".join(f"AND {column} = %({name})s" for column, name in SLUG_FILTERS if wanted[name])
    cells = [csv_copy.text(c) for c in OUTDATED_TEXT]
    cells += [days, csv_copy.stamp("outdated_since"), csv_copy.text("reason"), csv_copy.boolean("running")]
    select = f"SELECT {', '.join(cells)} FROM {table} WHERE {key} = %(key)s {where} ORDER BY {order}"  # noqa: S608
    return CopySource(select, {"key": key_id, **{k: v for k, v in wanted.items() if v}})


def _entry_rows(build, entries) -> Iterator[list]:
    for entry in entries.iterator(chunk_size=CHUNK):
        yield list(astuple(outdated_entry_row(entry, build.at)))


@register_export("outdated")
def outdated_export(organization, *, user, params) -> Export:
    """Every outdated asset, most days behind first (``ordering=days_behind`` for the reverse).

    Live: the organisation's current frozen list (ADR 021), the rows the API pages show. As of: the snapshot.
    """
    descending = params.get("ordering", "-days_behind") != "days_behind"
    filters = _filters(params)
    filters.validate(organization)
    at, snapshot = drift_as_of(organization, params.get("as_of"))
    filename = f"outdated-{organization.slug}.csv"
    if snapshot is not None:
        source, rows, evaluation = drift_outdated_list(
            organization, filters=filters, as_of=params.get("as_of"), descending=descending
        )
        provenance = _provenance(source, snapshot.pk, snapshot.taken_at, at)
        order = "days_behind DESC, instance_id, id" if descending else "days_behind, instance_id, id"
        table = DriftSnapshotAsset._meta.db_table
        copy = _outdated_copy(table, "snapshot_id", snapshot.pk, "days_behind", order, filters)
        return Export(filename, OUTDATED_HEADER, outdated_rows(source, rows, evaluation), provenance, copy)
    build = outdated_build_current(organization)
    seq = "seq_desc" if descending else "seq_asc"
    entries = DriftOutdatedEntry.objects.filter(build=build).order_by(seq)
    for column, name in SLUG_FILTERS:
        if value := params.get(name):
            entries = entries.filter(**{column: value})
    days = csv_copy.days_since("at", "outdated_since")
    copy = _outdated_copy(DriftOutdatedEntry._meta.db_table, "build_id", build.pk, days, seq, filters)
    copy = CopySource(copy.select, {**copy.params, "at": build.at})
    return Export(filename, OUTDATED_HEADER, _entry_rows(build, entries), _provenance("live", None, None, None), copy)


ASSET_HEADER = [
    "instance_id",
    "name",
    "platform",
    "account",
    "region",
    "site",
    "environment",
    "state",
    "image_ref",
    "image_version",
    "first_seen",
    "last_seen",
    "removed_at",
]


@register_export("assets")
def asset_export(organization, *, user, params) -> Export:
    """Assets with the AssetFilterSet filters of the API and portal (removed ones only with ``removed=true``)."""
    assets = visible(Asset.objects.all(), user).filter(organization=organization)
    if params.get("removed") in (None, ""):
        assets = assets.filter(removed_at__isnull=True)
    assets = _filterset(AssetFilterSet, params, assets, user, organization)
    rows = (
        assets.order_by("platform", "account", "instance_id")
        .values_list(
            "instance_id",
            "name",
            "platform",
            "account",
            "region",
            "site__slug",
            "environment__slug",
            "state",
            "image_ref",
            "image_version__family__slug",
            "image_version__version",
            "first_seen",
            "last_seen",
            "removed_at",
            "connector_id",
            "scope_key",
        )
        .iterator(chunk_size=CHUNK)
    )
    return Export(f"assets-{organization.slug}.csv", ASSET_HEADER, _asset_rows(rows, Sightings([organization.pk])))


def _asset_rows(rows, sightings: Sightings) -> Iterator[list]:
    """The effective last sighting (ADR 026): the organisation's scope sightings, read once, not a query per row."""
    for *head, family, version, first, last, removed, connector_id, scope_key in rows:
        last = sightings.of(connector_id=connector_id, scope_key=scope_key, last_seen=last, removed_at=removed).at
        yield [*head, f"{family}@{version}" if family else "", first, last, removed]


BADGE_KEYS = ("cis", "slsa", "signed", "sbom", "vulnerabilities")
VERSION_HEADER = ["family", "version", "status", "released_at", "revoked_at"] + [
    f"{key}_{part}" for key in BADGE_KEYS for part in ("status", "label")
]


@register_export("image-versions")
def image_version_export(organization, *, user, params) -> Export:
    """Image versions with their five badges, computed per chunk in a fixed number of queries."""
    versions = visible(ImageVersion.objects.all(), user).filter(organization=organization)
    versions = _filterset(ImageVersionFilterSet, params, versions, user, organization).select_related(
        "family", "organization"
    )
    ordered = versions.order_by("family__slug", "-version_key").iterator(chunk_size=CHUNK)
    return Export(f"image-versions-{organization.slug}.csv", VERSION_HEADER, _version_rows(ordered))


def _version_rows(versions) -> Iterator[list]:
    while chunk := list(itertools.islice(versions, CHUNK)):
        badges = version_badges_for(chunk)
        for version in chunk:
            by_key = {badge.key: badge for badge in badges[version.pk]}
            cells = [value for key in BADGE_KEYS for value in (by_key[key].status, by_key[key].label)]
            head = [version.family.slug, version.version, version.status, version.released_at, version.revoked_at]
            yield [*head, *cells]


SIGNATURE_HEADER = [
    "id",
    "created_at",
    "image",
    "environment",
    "method",
    "result",
    "code",
    "identity",
    "issuer",
    "key_id",
    "manifest_sha256",
    "via_gate",
    "enforced",
    "warned",
    "actor",
    "reason",
]


def signature_rows(queryset) -> Iterator[list]:
    """One CSV row per verification (the log's own order: newest first unless the caller ordered it)."""
    rows = queryset.values_list(
        "id",
        "created_at",
        "version__family__slug",
        "version__version",
        "environment__slug",
        "method",
        "result",
        "code",
        "identity",
        "issuer",
        "key_id",
        "manifest_sha256",
        "via_gate",
        "enforced",
        "warned",
        "actor__username",
        "reason",
    ).iterator(chunk_size=CHUNK)
    for pk, created, family, version, *rest in rows:
        yield [pk, created, f"{family}@{version}", *rest]


@register_export("signatures")
def signature_export(organization, *, user, params) -> Export:
    """The signature verification log with the SignatureVerificationFilterSet filters."""
    queryset = visible(SignatureVerification.objects.all(), user).filter(organization=organization)
    queryset = _filterset(SignatureVerificationFilterSet, params, queryset, user, organization).order_by(
        "-created_at", "-id"
    )
    return Export(f"signatures-{organization.slug}.csv", SIGNATURE_HEADER, signature_rows(queryset))
