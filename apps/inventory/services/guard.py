"""The removal guard: a scan never removes a large share of a scope on its own say-so (ADR 009).

A complete scope normally soft-removes what it no longer reports. When that would remove more than
``QLRF_SCAN_REMOVAL_GUARD_PCT`` % of the scope's live assets — or all of them from a scope that had more than
``QLRF_SCAN_REMOVAL_GUARD_MIN_ASSETS`` — the scope is marked ``suspect`` instead, nothing is removed, and the scan ends
``partial``. An engineer confirms the removal explicitly (``scan_removal_confirm``), audited and announced.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.events.services import emit
from apps.tenancy.services import audit_record, ensure_permitted_on

from ..models import Asset, AssetPresence, ScanRun, ScopeSighting
from .seen import seen_complete_after

SUSPECT = "suspect"


def removal_verdict(*, live: int, vanished: int) -> str:
    """The reason the removal of ``vanished`` of ``live`` assets is withheld, or "" when it may proceed."""
    if vanished <= 0 or live <= 0:
        return ""
    minimum = settings.QLRF_SCAN_REMOVAL_GUARD_MIN_ASSETS
    if vanished >= live and live > minimum:
        return f"would remove all {live} live assets of the scope (more than {minimum}): withheld until confirmed"
    pct = settings.QLRF_SCAN_REMOVAL_GUARD_PCT
    if vanished * 100 > pct * live:
        return (
            f"would remove {vanished} of {live} live assets ({vanished * 100 / live:.0f} % > {pct} %): "
            "withheld until confirmed"
        )
    return ""


def vanished_assets(run: ScanRun, scope_key: str, seen_at):
    """The scope's live assets that no scan wrote since ``seen_at`` (the run's start).

    Unchanged assets are not written (ADR 026): while the scope is synced, its sync also excludes those it recorded
    seen (``seen.not_seen``); afterwards, a scope seen complete later (its ``ScopeSighting``) saw every one of them.
    """
    return Asset.objects.filter(
        connector_id=run.connector_id, scope_key=scope_key, removed_at__isnull=True, last_seen__lt=seen_at
    )


def assets_remove(assets, *, at) -> int:
    """Soft-remove ``assets`` at ``at`` and close their open presence interval; return how many were removed.

    A removed asset no longer takes its scope's sighting as its own: its last complete sighting (ADR 026) is written
    into ``last_seen``/``last_scan`` as it is removed (the same row update).
    """
    rows = list(assets.values_list("id", "connector_id", "scope_key"))
    if not rows:
        return 0
    ids = [pk for pk, _connector, _scope in rows]
    AssetPresence.objects.filter(asset_id__in=ids, seen_until__isnull=True).update(seen_until=at)
    removed = 0
    for connector_id, scope_key in {(c, k) for _pk, c, k in rows}:
        of_scope = Asset.objects.filter(pk__in=ids, connector_id=connector_id, scope_key=scope_key)
        sighting = ScopeSighting.objects.filter(connector_id=connector_id, scope_key=scope_key).first()
        if sighting is not None:
            removed += of_scope.filter(last_seen__lt=sighting.seen_at).update(
                removed_at=at, last_seen=sighting.seen_at, last_scan_id=sighting.scan_id
            )
        removed += of_scope.filter(removed_at__isnull=True).update(removed_at=at)
    return removed


@transaction.atomic
def scan_removal_confirm(*, actor, run: ScanRun) -> ScanRun:
    """Apply the removals a run withheld, scope by scope; audited, with an outbox event. Refused when none is withheld.

    Only assets no scan has seen since the run are removed (a later scan that saw a machine again wins): a scope that
    a later scan saw complete removes nothing (that scan saw or removed each of its assets); otherwise the later scans
    that did not complete it wrote the assets they saw (``seen.seen_touch``).
    """

    run = ScanRun.objects.select_for_update().select_related("connector", "organization").get(pk=run.pk)
    ensure_permitted_on(actor, run, "change")
    keys = run.suspect_scopes
    if not keys:
        raise ValidationError(f"scan {run.pk} has no withheld removal to confirm", code="nothing_to_confirm")
    seen_at, now = run.started_at, timezone.now()
    removed_by_scope = {}
    for key in keys:
        if seen_complete_after(run.connector_id, key, seen_at):
            removed = 0
        else:
            removed = assets_remove(vanished_assets(run, key, seen_at), at=seen_at)
        removed_by_scope[key] = removed
        who = actor.get_username() if actor is not None else "system"
        run.scopes[key] = {
            **run.scopes[key],
            "status": "succeeded",
            "removed": removed,
            "confirmed_by": who,
            "confirmed_at": now.isoformat(),
        }
        scope = run.scopes[key]
        if removed:
            emit(
                organization=run.organization,
                type="asset.removed",
                payload={
                    "platform": run.connector.platform,
                    "scope": key,
                    "account": scope.get("account", key.split("/")[0]),
                    "count": removed,
                    "scan_run": run.pk,
                },
            )
    run.removed += sum(removed_by_scope.values())
    run.save(update_fields=["scopes", "removed"])
    audit_record(
        organization=run.organization,
        actor=actor,
        action="inventory.scanrun.confirm_removal",
        obj=run,
        after={"removed": removed_by_scope, "scopes": keys},
    )
    emit(
        organization=run.organization,
        type="scan.removal_confirmed",
        payload={
            "scan_run": run.pk,
            "connector": run.connector.name,
            "status": run.status,
            "counts": {"removed": sum(removed_by_scope.values())},
            "failed_scopes": run.failed_scopes,
        },
    )
    return run
