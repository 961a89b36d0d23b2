"""What a scan saw, without writing the rows it saw unchanged (ADR 026).

During a scope's sync the ids of its unchanged assets go into a per-connection temporary table (``inventory_seen``,
emptied at the scope's start; COPY on PostgreSQL, one ``executemany`` per batch elsewhere): memory holds one batch.
The scope's vanished assets are its live assets that no batch wrote and the table does not hold (an anti-join).

A scope that ``succeeded`` moves its ``ScopeSighting`` to the scan's start: every live asset of the scope was seen
then. The effective last sighting of an asset is therefore ``max(last_seen, sighting)`` while it is live, the scan
being the sighting's when that is later; ``last_seen_of``/``Sightings`` compute it from one small query per
organisation (one row per connector scope), never a subquery per asset.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from ..models import Asset, ScanRun, ScopeSighting

SEEN_TABLE = "inventory_seen"


def seen_reset() -> None:
    """Create (once per connection) and empty the seen table; call at the start of a scope, inside its transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SEEN_TABLE} (id bigint NOT NULL)")
        cursor.execute(f"DELETE FROM {SEEN_TABLE}")  # noqa: S608 — a constant name


def seen_record(ids: list[int]) -> None:
    """Add the ids of assets the scope saw unchanged."""
    if not ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {SEEN_TABLE} (id) FROM STDIN") as copy:
                for pk in ids:
                    copy.write_row((pk,))
        else:
            cursor.executemany(f"INSERT INTO {SEEN_TABLE} (id) VALUES (%s)", [(pk,) for pk in ids])  # noqa: S608


def _seen_sql() -> str:
    return f"SELECT 1 FROM {SEEN_TABLE} s WHERE s.id = {Asset._meta.db_table}.id"  # noqa: S608


def not_seen(assets):
    """``assets`` (a queryset of Asset) the scope did not record as seen unchanged: ``NOT EXISTS``, an anti-join.

    On PostgreSQL the seen table is analysed first (a few thousand ids per scope): unanalysed, the planner may pick a
    nested loop over it instead of a hash anti-join.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SEEN_TABLE}")
    return assets.extra(where=[f"NOT EXISTS ({_seen_sql()})"])  # noqa: S610 — constant SQL, no parameters


def seen_touch(run: ScanRun, seen_at) -> int:
    """Write ``last_seen``/``last_scan`` of the assets recorded as seen unchanged (the rare paths where the scope
    does not move its sighting: withheld removals, a scope cut short). Returns how many rows were written."""
    return (
        Asset.objects.all()
        .extra(where=[f"EXISTS ({_seen_sql()})"])  # noqa: S610
        .update(last_seen=seen_at, last_scan_id=run.pk)
    )


def sighting_record(run: ScanRun, scope_key: str, seen_at) -> None:
    """The scope was seen complete at ``seen_at`` by ``run``: move its sighting forward (never back)."""
    moved = ScopeSighting.objects.filter(
        connector_id=run.connector_id, scope_key=scope_key, seen_at__lt=seen_at
    ).update(seen_at=seen_at, scan_id=run.pk)
    if not moved and not ScopeSighting.objects.filter(connector_id=run.connector_id, scope_key=scope_key).exists():
        ScopeSighting.objects.create(
            organization_id=run.organization_id,
            connector_id=run.connector_id,
            scope_key=scope_key,
            seen_at=seen_at,
            scan_id=run.pk,
        )


def seen_complete_after(connector_id: int, scope_key: str, at) -> bool:
    """Whether a later scan than ``at`` saw the scope complete (so it saw or removed each of its live assets)."""
    return ScopeSighting.objects.filter(connector_id=connector_id, scope_key=scope_key, seen_at__gt=at).exists()


@dataclass(frozen=True)
class Seen:
    at: datetime.datetime
    scan_id: int | None


class Sightings:
    """The latest complete sighting of each connector scope of some organisations, loaded once (a few rows)."""

    def __init__(self, organization_ids: Iterable[int]):
        self._by_scope = {
            (connector_id, key): Seen(at, scan_id)
            for connector_id, key, at, scan_id in ScopeSighting.objects.filter(
                organization_id__in=list(organization_ids)
            ).values_list("connector_id", "scope_key", "seen_at", "scan_id")
        }

    def of(self, *, connector_id, scope_key: str, last_seen, removed_at, last_scan_id=None) -> Seen:
        """The effective last sighting of an asset given its stored columns."""
        stored = Seen(last_seen, last_scan_id)
        if removed_at is not None or connector_id is None:
            return stored
        sighting = self._by_scope.get((connector_id, scope_key))
        if sighting is None or last_seen is None or sighting.at <= last_seen:
            return stored
        return sighting

    def last_seen(self, asset: Asset) -> datetime.datetime:
        return self.of(
            connector_id=asset.connector_id,
            scope_key=asset.scope_key,
            last_seen=asset.last_seen,
            removed_at=asset.removed_at,
        ).at


def last_seen_of(asset: Asset) -> datetime.datetime:
    """One asset's effective last sighting (one small query; use ``Sightings`` for many)."""
    return Sightings([asset.organization_id]).last_seen(asset)


def with_last_seen(assets, name: str = "seen_last"):
    """``assets`` annotated with the effective last sighting as ``name``, for short pages (the admin's): a subquery
    per row returned, on the sighting's unique index. Long lists read ``Sightings`` once instead."""
    from django.db.models import Case, F, OuterRef, Subquery, When
    from django.db.models.functions import Coalesce, Greatest

    sighting = ScopeSighting.objects.filter(
        connector_id=OuterRef("connector_id"), scope_key=OuterRef("scope_key")
    ).values("seen_at")[:1]
    latest = Greatest(F("last_seen"), Coalesce(Subquery(sighting), F("last_seen")))
    return assets.annotate(**{name: Case(When(removed_at__isnull=True, then=latest), default=F("last_seen"))})
