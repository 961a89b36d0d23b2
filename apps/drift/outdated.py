"""The live outdated list, frozen once per generation and paged by keyset: any page at any depth costs the same.

The first read of the organisation's generation (qlrf/cache_generation.py) evaluates the fleet and copies its outdated
assets, in both orders, into ``DriftOutdatedEntry`` rows with one ``INSERT … SELECT`` (set-based). Every page is then
one indexed range read, ``seq > k ORDER BY seq LIMIT n``, and the count is a sum of the build's per-cell counts: no
re-evaluation, no ``COUNT``, no ``OFFSET`` scan. A write moves the generation, so the next first page comes from a new
build; a cursor names its build and keeps paging that same frozen list (consistent, no row twice or skipped) until the
build has been idle ``RETENTION_SECONDS`` past its lifetime (or ``MAX_BUILDS`` newer ones exist), then answers 410
``cursor_expired``.
See docs/adr/021-outdated-keyset-pages.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from qlrf.cache_generation import generation

from .engine import drift_evaluate, outdated_assets
from .models import DriftOutdatedBuild, DriftOutdatedEntry
from .reports import OutdatedAsset

RETENTION_SECONDS = 600  # an expired build nobody paged for this long is deleted (its cursors then answer 410)
MAX_BUILDS = 8  # per organisation: older builds are deleted even while paged (each is ~300 B per outdated asset)
TOUCH_EVERY = datetime.timedelta(seconds=60)
LOCK_NAMESPACE = 7_117  # pg_advisory_xact_lock(namespace, organization id): one build per organisation at a time
ENTRY_COLUMNS = (
    "asset_id",
    "instance_id",
    "name",
    "platform",
    "environment_slug",
    "site_slug",
    "version",
    "baseline",
    "outdated_since",
    "reason",
    "running",
    "seq_desc",
    "seq_asc",
)


class CursorError(ValueError):
    """A cursor that cannot be served: ``code`` is ``invalid_cursor`` (400) or ``cursor_expired`` (410)."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Cursor:
    build: int
    seq: int
    backward: bool
    descending: bool
    filters: tuple

    def encode(self) -> str:
        raw = json.dumps([self.build, self.seq, int(self.backward), int(self.descending), list(self.filters)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            build, seq, backward, descending, filters = json.loads(raw)
            cursor = cls(int(build), int(seq), bool(backward), bool(descending), tuple(filters))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise CursorError("invalid_cursor", "the cursor is not one this API handed out", 400) from None
        if len(cursor.filters) != 3 or cursor.seq < 0:
            raise CursorError("invalid_cursor", "the cursor is not one this API handed out", 400)
        return cursor


@dataclass
class OutdatedPage:
    build: DriftOutdatedBuild
    rows: list[OutdatedAsset]
    count: int
    next: Cursor | None
    previous: Cursor | None


def _retention() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "QLRF_DRIFT_OUTDATED_RETENTION_SECONDS", RETENTION_SECONDS))


def outdated_build_current(organization) -> DriftOutdatedBuild:
    """The organisation's build for its current generation, made now if there is none (one cache read + one query)."""
    current = generation(organization)  # read before evaluating: a write committed meanwhile retires this build
    build = _fresh(organization, current)
    if build is not None:
        return build
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two processes missing at once: the second reuses the first's build
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organization.pk])
            build = _fresh(organization, current)
        if build is None:
            build = outdated_build_make(organization, current)
    outdated_builds_retire(organization)
    if connection.vendor == "postgresql":
        # The new build id is unknown to the planner until the table is analysed: it would estimate a few rows and
        # sort the whole build (bitmap scan + sort, 130 ms at 3M) instead of reading 50 rows down (build, seq).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DriftOutdatedEntry._meta.db_table}")
    return build


def _fresh(organization, current: int) -> DriftOutdatedBuild | None:
    return (
        DriftOutdatedBuild.objects.filter(organization=organization, generation=current, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )


def outdated_build_make(organization, current: int) -> DriftOutdatedBuild:
    """Evaluate the fleet and freeze its outdated assets in both orders: one ``INSERT … SELECT``, then the cells."""
    from .selectors import drift_live_lifetime

    evaluation = drift_evaluate(organization)
    build = DriftOutdatedBuild.objects.create(
        organization=organization,
        generation=current,
        at=evaluation.at,
        expires_at=evaluation.at + datetime.timedelta(seconds=drift_live_lifetime(organization)),
    )
    outdated = {key: verdict for key, verdict in evaluation.verdicts.items() if not verdict.compliant}
    if outdated:
        _insert_entries(build, organization, evaluation, outdated)
    cells = list(
        DriftOutdatedEntry.objects.filter(build=build)
        .values_list("environment_slug", "platform", "site_slug")
        .annotate(n=Count("id"))
        .order_by()
    )
    build.cells = [list(cell) for cell in cells]
    build.total = sum(cell[3] for cell in cells)
    build.save(update_fields=["cells", "total"])
    return build


def _pairs_case(outdated: dict, value) -> Case:
    """``value(verdict)`` of each asset's (environment, version) pair, as one SQL ``CASE``."""
    whens = [When(Q(environment_id=e, image_version_id=ver), then=Value(value(v))) for (e, ver), v in outdated.items()]
    return Case(*whens, output_field=CharField())


def _insert_entries(build, organization, evaluation, outdated: dict) -> None:
    labels = evaluation.labels
    versions = {version for _, version in outdated}
    rows = (
        outdated_assets(organization, evaluation)
        .select_related(None)
        .annotate(
            e_asset=F("id"),
            e_instance=F("instance_id"),
            e_name=F("name"),
            e_platform=F("platform"),
            e_env=Coalesce(F("environment__slug"), Value("")),
            e_site=Coalesce(F("site__slug"), Value("")),
            e_version=Case(
                *[When(image_version_id=v, then=Value(labels[v])) for v in versions], output_field=CharField()
            ),
            e_baseline=_pairs_case(outdated, lambda v: v.baseline),
            e_reason=_pairs_case(outdated, lambda v: v.reason),
            e_since=F("outdated_since"),
            e_running=F("running"),
            e_desc=Window(RowNumber(), order_by=[F("outdated_since").asc(), F("instance_id").asc(), F("id").asc()]),
            e_asc=Window(RowNumber(), order_by=[F("outdated_since").desc(), F("instance_id").asc(), F("id").asc()]),
        )
    )
    names = ("e_asset", "e_instance", "e_name", "e_platform", "e_env", "e_site", "e_version", "e_baseline")
    names += ("e_since", "e_reason", "e_running", "e_desc", "e_asc")
    select, params = rows.values(*names).query.sql_with_params()
    table = DriftOutdatedEntry._meta.db_table
    columns = ", ".join(("build_id", "organization_id", *ENTRY_COLUMNS))
    picked = ", ".join(f"q.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT %s, %s, {picked} FROM ({select}) q",  # noqa: S608 - names are ours
            [build.pk, organization.pk, *params],
        )


def outdated_builds_retire(organization) -> int:
    """Delete the organisation's builds nobody pages any more: past their first-page lifetime and idle for the
    retention (a cursor read keeps its build alive), and any beyond the newest ``MAX_BUILDS`` (bounded storage when
    writes come faster than readers finish)."""
    now = timezone.now()
    builds = DriftOutdatedBuild.objects.filter(organization=organization)
    idle = builds.filter(expires_at__lt=now, last_used_at__lt=now - _retention()).values_list("id", flat=True)
    surplus = builds.order_by("-id").values_list("id", flat=True)[MAX_BUILDS:]
    old = sorted({*idle, *surplus})
    if old:
        DriftOutdatedEntry.objects.filter(build_id__in=old).delete()
        DriftOutdatedBuild.objects.filter(pk__in=old).delete()
    return len(old)


def _touch(build: DriftOutdatedBuild) -> None:
    """Record that a cursor still pages this build (at most one UPDATE a minute per build)."""
    now = timezone.now()
    if build.last_used_at < now - TOUCH_EVERY:
        DriftOutdatedBuild.objects.filter(pk=build.pk).update(last_used_at=now)


def outdated_entry_row(entry: DriftOutdatedEntry, at: datetime.datetime) -> OutdatedAsset:
    """An entry as the API and CSV show it: ``days_behind`` counted from the build's evaluation instant."""
    return OutdatedAsset(
        entry.instance_id,
        entry.name,
        entry.platform,
        entry.environment_slug,
        entry.site_slug,
        entry.version,
        entry.baseline,
        max(0, (at - entry.outdated_since).days),
        entry.outdated_since,
        entry.reason,
        entry.running,
    )


def outdated_page(
    organization, *, filters, descending: bool = True, limit: int = 50, offset: int = 0, cursor: str | None = None
) -> OutdatedPage:
    """One page of the live outdated list: from the cursor's build, or (no cursor) the current build at ``offset``."""
    wanted = (filters.environment or "", filters.platform or "", filters.site or "")
    if cursor:
        position = Cursor.decode(cursor)
        if (position.descending, position.filters) != (descending, wanted):
            raise CursorError("invalid_cursor", "the cursor belongs to another ordering or filter; start again", 400)
        build = DriftOutdatedBuild.objects.filter(pk=position.build, organization=organization).first()
        if build is not None:
            _touch(build)
        else:
            raise CursorError(
                "cursor_expired",
                "the list this cursor paged was retired (the fleet changed since); start again from the first page",
                410,
            )
    else:
        position, build = None, outdated_build_current(organization)
    seq = "seq_desc" if descending else "seq_asc"
    entries = DriftOutdatedEntry.objects.filter(build=build)
    for field, value in zip(("environment_slug", "platform", "site_slug"), wanted, strict=True):
        if value:
            entries = entries.filter(**{field: value})
    filtered = any(wanted)
    if position is not None and position.backward:
        found = list(entries.filter(**{f"{seq}__lt": position.seq}).order_by(f"-{seq}")[: limit + 1])
        more_before, page = len(found) > limit, found[:limit][::-1]
        more_after = True
    elif position is not None:
        found = list(entries.filter(**{f"{seq}__gt": position.seq}).order_by(seq)[: limit + 1])
        page, more_after, more_before = found[:limit], len(found) > limit, True
    elif not filtered:  # unfiltered, the order is 1..total: an offset is a key
        found = list(entries.filter(**{f"{seq}__gt": offset}).order_by(seq)[: limit + 1])
        page, more_after, more_before = found[:limit], len(found) > limit, offset > 0
    else:
        found = list(entries.order_by(seq)[offset : offset + limit + 1])
        page, more_after, more_before = found[:limit], len(found) > limit, offset > 0

    def at(entry, backward):
        return Cursor(build.pk, getattr(entry, seq), backward, descending, wanted)

    count = sum(n for env, platform, site, n in build.cells if _keep(wanted, (env, platform, site)))
    return OutdatedPage(
        build=build,
        rows=[outdated_entry_row(entry, build.at) for entry in page],
        count=count,
        next=at(page[-1], False) if page and more_after else None,
        previous=at(page[0], True) if page and more_before else None,
    )


def _keep(wanted: tuple, cell: tuple) -> bool:
    return all(not want or want == have for want, have in zip(wanted, cell, strict=True))
