"""``inventory_sync``: stream a connector's assets into the inventory, set-based, scope by scope.

A scope is synced inside one transaction that also marks its scope row done (``scans.scope_execute``), so a scope is
applied exactly once however often its task runs; the scopes of one scan may run on many workers at once.

Per batch: one SELECT of the existing fingerprints (probing the unique index), one ``INSERT … ON CONFLICT DO UPDATE``
for new and changed assets — on PostgreSQL fed by COPY into a temporary table, elsewhere Django's
``bulk_create(update_conflicts=True)``, with the same semantics —, and the changed assets' graph edges replaced.
Unchanged assets are not written: their ids go into the scope's seen table (``seen``, ADR 026), the vanished are found
by an anti-join against it, and a complete scope moves its ``ScopeSighting`` instead. Memory holds one batch.
A scope that fails or is cut short removes nothing; removal is soft and follows only a complete scope.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from apps.events.services import emit

from ..connectors.base import BaseConnector, DiscoveredAsset, Scope, ScopeFailed
from ..models import Asset, AssetEdge, AssetImageChange, AssetPresence, ScanRun
from .breakers import guarded_assets
from .guard import SUSPECT, assets_remove, removal_verdict, vanished_assets
from .images import images_sync
from .resolution import ImageResolver, OrgMaps, ref_key_for
from .seen import not_seen, seen_record, seen_reset, seen_touch, sighting_record
from .sites import sites_from_scan

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
UPDATE_FIELDS = [
    "connector",
    "region",
    "zone",
    "site",
    "environment",
    "name",
    "state",
    "image_ref",
    "ref_key",
    "reported_version",
    "group_ref",
    "tags",
    "facts",
    "resolution_reason",
    "scope_key",
    "fingerprint",
    "last_seen",
    "removed_at",
    "last_scan",
    "image_artifact",
    "image_version",
]


@dataclass
class Counts:
    discovered: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def add(self, other: Counts) -> None:
        for name in ("discovered", "new", "updated", "unchanged", "removed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SyncState:
    run: ScanRun
    maps: OrgMaps
    resolver: ImageResolver
    seen_at: object
    on_progress: Callable[[ScanRun], None] | None = None
    totals: Counts = field(default_factory=Counts)
    analyzed_rows: int = 0  # rows the planner knew of at the last ANALYZE we ran
    new_since_analyze: int = 0


def _row(state: SyncState, scope: Scope, asset: DiscoveredAsset, fingerprint: str) -> Asset:
    run = state.run
    ref_key = ref_key_for(asset.platform, asset.image_ref)
    artifact_id, version_id = state.resolver.resolve(asset.platform, ref_key)
    return Asset(
        organization_id=run.organization_id,
        connector_id=run.connector_id,
        platform=asset.platform,
        account=asset.account,
        region=asset.region,
        zone=asset.zone,
        site_id=state.maps.site_for(asset.platform, asset.region, asset.site_hint),
        environment_id=state.maps.environment_for(asset.tags),
        instance_id=asset.instance_id,
        name=asset.name[:300],
        state=asset.state,
        image_ref=asset.image_ref,
        ref_key=ref_key,
        image_artifact_id=artifact_id,
        image_version_id=version_id,
        reported_version=asset.image_version[:64],
        group_ref=asset.group_ref,
        tags=asset.tags,
        facts=_facts(asset),
        resolution_reason=str(asset.extra.get("unresolved_reason") or "")[:300],
        scope_key=scope.key,
        fingerprint=fingerprint,
        first_seen=state.seen_at,
        last_seen=state.seen_at,
        removed_at=None,
        last_scan_id=run.pk,
    )


def _facts(asset: DiscoveredAsset) -> dict:
    """``extra`` as JSON (what the connector learned beyond the common fields), values it cannot encode as text."""
    return json.loads(json.dumps(asset.extra, sort_keys=True, default=str))


EXISTING_COLUMNS = (
    "id",
    "fingerprint",
    "removed_at",
    "image_ref",
    "image_version_id",
    "connector_id",
    "scope_key",
    "instance_id",
)


def _existing(organization_id: int, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], tuple]:
    """The stored (id, fingerprint, removed_at, image_ref, image_version_id, connector_id, scope_key, instance_id)
    of ``keys``.

    Probes the full unique index per (platform, account). On PostgreSQL the instance ids go as one array parameter
    (``= ANY(%s)``): an IN list of a thousand placeholders costs more to compile and bind than the probe itself.
    """
    by_owner: dict[tuple[str, str], list[str]] = defaultdict(list)
    for platform, account, instance_id in keys:  # a batch comes from one scope: one group, rarely a few
        by_owner[(platform, account)].append(instance_id)
    found = {}
    for (platform, account), instance_ids in by_owner.items():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(EXISTING_SQL, [organization_id, platform, account, instance_ids])
                rows = cursor.fetchall()
        else:
            rows = Asset.objects.filter(
                organization_id=organization_id, platform=platform, account=account, instance_id__in=instance_ids
            ).values_list(*EXISTING_COLUMNS)
        found.update({(platform, account, row[7]): row for row in rows})
    return found


EXISTING_SQL = (
    f"SELECT {', '.join(Asset._meta.get_field(name).column for name in EXISTING_COLUMNS)} "  # noqa: S608 — _meta
    "FROM inventory_asset WHERE organization_id = %s AND platform = %s AND account = %s AND instance_id = ANY(%s)"
)


def _replace_edges(organization_id: int, written: list[tuple[Asset, DiscoveredAsset, bool]]) -> None:
    """Replace the graph edges of the written assets: the pks come back from the upsert, new assets have none yet."""
    stale = [row.pk for row, _asset, is_new in written if not is_new]
    if stale:
        AssetEdge.objects.filter(asset_id__in=stale).delete()
    AssetEdge.objects.bulk_create(
        AssetEdge(
            organization_id=organization_id,
            asset_id=row.pk,
            source_kind=e.source_kind,
            source_ref=e.source_ref[:500],
            target_kind=e.target_kind,
            target_ref=e.target_ref[:500],
            label=e.label,
        )
        for row, asset, _is_new in written
        for e in asset.edges
    )


def _append_history(state: SyncState, rows: list[Asset], previous: dict[tuple[str, str, str], tuple | None]) -> None:
    """Open a presence interval for new and reappearing assets; record every change of image (ref or version)."""
    presences, changes = [], []
    for row in rows:
        found = previous[(row.platform, row.account, row.instance_id)]
        if found is None or found[2] is not None:  # new, or back after a removal: a new interval, the gap stays
            presences.append(
                AssetPresence(organization_id=row.organization_id, asset_id=row.pk, seen_from=state.seen_at)
            )
        if found is None or (found[3], found[4]) != (row.image_ref, row.image_version_id):
            changes.append(
                AssetImageChange(
                    organization_id=row.organization_id,
                    asset_id=row.pk,
                    at=state.seen_at,
                    image_ref=row.image_ref,
                    reported_version=row.reported_version,
                    image_version_id=row.image_version_id,
                )
            )
    AssetPresence.objects.bulk_create(presences)
    AssetImageChange.objects.bulk_create(changes)


UNIQUE_FIELDS = ["organization", "platform", "account", "instance_id"]


def _write_rows(rows: list[Asset]) -> None:
    """Upsert new and changed rows and set their pks; on PostgreSQL by COPY into a temp table + one INSERT … SELECT.

    Django's ``bulk_create`` compiles and binds every value in Python (the first scan's largest cost); COPY streams
    them. Same statement semantics: ON CONFLICT on the unique instance key updates exactly ``UPDATE_FIELDS``.
    """
    if connection.vendor != "postgresql":
        Asset.objects.bulk_create(rows, update_conflicts=True, unique_fields=UNIQUE_FIELDS, update_fields=UPDATE_FIELDS)
        return
    qn = connection.ops.quote_name
    fields = [f for f in Asset._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(qn(f.column) for f in fields)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (qn(Asset._meta.get_field(n).column) for n in UPDATE_FIELDS))
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:  # the SQL holds identifiers from _meta only, values go through COPY
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS inventory_asset_stage ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM inventory_asset WITH NO DATA"
        )
        cursor.execute("DELETE FROM inventory_asset_stage")  # empty even inside an outer transaction
        with cursor.copy(f"COPY inventory_asset_stage ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = [getattr(row, name) for name in attnames]
                values[attnames.index("tags")] = json.dumps(row.tags)
                values[attnames.index("facts")] = json.dumps(row.facts)
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO inventory_asset ({columns}) SELECT {columns} FROM inventory_asset_stage "  # noqa: S608
            f"ON CONFLICT (organization_id, platform, account, instance_id) DO UPDATE SET {updates} "
            "RETURNING platform, account, instance_id, id"
        )
        pks = {(p, a, i): pk for p, a, i, pk in cursor.fetchall()}
    for row in rows:
        row.pk = pks[(row.platform, row.account, row.instance_id)]


@transaction.atomic
def _upsert_batch(state: SyncState, scope: Scope, batch: Iterable[DiscoveredAsset]) -> Counts:
    """Write one batch: new and changed rows upserted, unchanged rows only recorded as seen (not written)."""
    unique = {(a.platform, a.account, a.instance_id): a for a in batch}  # a later duplicate wins
    existing = _existing(state.run.organization_id, list(unique))
    counts, rows, written, unchanged_ids = Counts(discovered=len(unique)), [], [], []
    previous: dict[tuple[str, str, str], tuple | None] = {}
    for key, asset in unique.items():
        fingerprint = asset.fingerprint()
        found = existing.get(key)
        if (
            found is not None
            and found[1] == fingerprint
            and found[2] is None
            and (found[5], found[6]) == (state.run.connector_id, scope.key)  # else it moved: written, not just seen
        ):
            unchanged_ids.append(found[0])
            continue
        if found is None:
            counts.new += 1
        else:
            counts.updated += 1
        row = _row(state, scope, asset, fingerprint)
        rows.append(row)
        written.append((row, asset, found is None))
        previous[key] = found
    counts.unchanged = len(unchanged_ids)
    if rows:
        _write_rows(rows)
        _replace_edges(state.run.organization_id, written)
        _append_history(state, rows, previous)
    seen_record(unchanged_ids)  # not written: the scope's sighting, or seen_touch on the rare paths, tells
    return counts


ANALYZE_MIN_ROWS = 20_000


def _keep_statistics_fresh(state: SyncState, new_rows: int) -> None:
    """ANALYZE the asset table when a scan has grown it a lot (PostgreSQL only).

    A first scan of a large fleet grows the table from nothing; until autovacuum catches up, the planner believes it is
    tiny and probes it by sequential scan, which makes every later batch slower. Analysing each time the table has
    (roughly) doubled keeps index probes and costs a handful of ANALYZEs per scan.
    """
    state.new_since_analyze += new_rows
    if connection.vendor != "postgresql":
        return
    if state.new_since_analyze >= max(ANALYZE_MIN_ROWS, state.analyzed_rows):
        state.analyzed_rows += state.new_since_analyze
        state.new_since_analyze = 0
        # after the scope's commit: inside it, ANALYZE would hold a lock every other worker's ANALYZE waits for
        transaction.on_commit(_analyze, robust=True)


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_asset")


@transaction.atomic
def _finish_scope(state: SyncState, connector_platform: str, scope: Scope, counts: Counts, info: dict) -> None:
    """After a complete scope: soft-remove what it no longer reports, emit the scope's asset events."""
    run = state.run
    vanished = not_seen(vanished_assets(run, scope.key, state.seen_at))  # neither written nor seen unchanged
    withheld = vanished.count()
    live = Asset.objects.filter(connector_id=run.connector_id, scope_key=scope.key, removed_at__isnull=True).count()
    reason = removal_verdict(live=live, vanished=withheld)
    if reason:  # the removal guard (ADR 009): nothing removed until an engineer confirms
        counts.removed = 0
        info.update(status=SUSPECT, removed=0, withheld=withheld, live=live, error=reason)
        # no sighting for the scope: the withheld stay stale, the seen ones are written seen (rare path)
        seen_touch(run, state.seen_at)
    else:
        counts.removed = assets_remove(vanished, at=state.seen_at)
        info.update(status="succeeded", removed=counts.removed)
        sighting_record(run, scope.key, state.seen_at)  # every live asset of the scope was seen at seen_at
    for event_type, count in (
        ("asset.discovered", counts.new),
        ("asset.changed", counts.updated),
        ("asset.removed", counts.removed),
    ):
        if count:
            emit(
                organization=run.organization,
                type=event_type,
                payload={
                    "platform": connector_platform,
                    "account": scope.account,
                    "region": scope.region,
                    "scope": scope.key,
                    "count": count,
                    "scan_run": run.pk,
                },
            )


def _show_progress(state: SyncState, key: str, discovered: int) -> None:
    """In-memory progress for an in-process caller (the CLI's bar); nothing is written while a scope is applied."""
    if state.on_progress:
        state.run.scopes[key] = {**state.run.scopes.get(key, {}), "status": "running", "discovered": discovered}
        state.on_progress(state.run)


def scope_sync(state: SyncState, connector: BaseConnector, scope: Scope, info: dict) -> Counts:
    """Sync one scope inside the caller's transaction; ``info`` receives its outcome (status, removed, error…).

    A ``ScopeFailed`` keeps the batches written so far and removes nothing; any other error undoes the scope's writes
    (its savepoint) and fails the scope. Never raises for the scope.
    """
    run, counts = state.run, Counts()
    try:
        with transaction.atomic():  # savepoint: a database error must not poison the caller's transaction
            seen_reset()
            try:
                batch: list[DiscoveredAsset] = []
                for asset in guarded_assets(connector, scope, connector_id=run.connector_id):  # breaker, ADR 015
                    batch.append(asset)
                    if len(batch) >= BATCH_SIZE:
                        written = _upsert_batch(state, scope, batch)
                        counts.add(written)
                        _keep_statistics_fresh(state, written.new)
                        batch.clear()
                        _show_progress(state, scope.key, counts.discovered)
                if batch:
                    counts.add(_upsert_batch(state, scope, batch))
            except ScopeFailed as exc:
                info.update(status="failed", error=exc.reason)
                seen_touch(run, state.seen_at)  # the batches it did read stay seen, as the written ones (rare path)
                return counts
    except Exception as exc:
        logger.exception("scope %s of scan %s failed unexpectedly", scope.key, run.pk)
        info.update(status="failed", error=f"internal error: {type(exc).__name__}: {exc}"[:500])
        return Counts(discovered=counts.discovered)
    _finish_scope(state, run.connector.platform, scope, counts, info)
    return counts


def sync_prepare(*, run: ScanRun, connector: BaseConnector) -> list[Scope]:
    """What comes before the machines, once per scan: the scopes, the images of every scope, the artifact rules.

    Images first (every scope), then the artifact rules attach the new copies to their versions, so the machines
    resolve against the registry as it stands after that (ADR 025).
    """
    scopes = connector.scopes()
    images_sync(run=run, connector=connector, scopes=scopes)
    _apply_rules(run)
    return scopes


def sync_state(run: ScanRun, on_progress=None) -> SyncState:
    """The per-process state of a scan's scope syncs: site/environment maps, the image resolver, the seen time."""
    return SyncState(
        run=run,
        maps=OrgMaps.load(run.connector),
        resolver=ImageResolver.load(run.organization),
        seen_at=run.started_at,
        on_progress=on_progress,
    )


def sync_after(run: ScanRun) -> None:
    """What comes after every scope reported: sites for the regions reported (ADR 025)."""
    if settings.QLRF_SITES_FROM_SCANS:
        sites_from_scan(connector=run.connector)


def inventory_sync(*, run: ScanRun, connector: BaseConnector, on_progress=None) -> Counts:
    """Scan every scope of ``connector`` into the inventory for ``run``, in this process, without finishing the run;
    return the totals. Each scope goes through its scope row like a fanned-out one (``scans.scan_scopes_inline``)."""
    from .scans import scan_scopes_inline

    return scan_scopes_inline(run=run, connector=connector, on_progress=on_progress, finalise=False)


def _apply_rules(run: ScanRun) -> None:
    """The organisation's artifact rules over the images just listed; a rule failure never fails the scan."""
    from apps.images.services import artifact_rules_apply

    try:
        outcome = artifact_rules_apply(organization=run.organization, connector=run.connector)
    except Exception:
        logger.exception("artifact rules after scan %s failed", run.pk)
        return
    if outcome.attached or outcome.refused:
        logger.info("scan %s: rules attached %s image(s), refused %s", run.pk, outcome.attached, len(outcome.refused))
