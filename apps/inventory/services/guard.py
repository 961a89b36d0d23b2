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

from ..models import Asset, AssetPresence, ScanRun

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
    """The scope's live assets that the run (started ``seen_at``) did not see, nor any later scan."""
    return Asset.objects.filter(
        connector_id=run.connector_id, scope_key=scope_key, removed_at__isnull=True, last_seen__lt=seen_at
    )


def assets_remove(assets, *, at) -> int:
    """Soft-remove ``assets`` at ``at`` and close their open presence interval; return how many were removed."""
    ids = list(assets.values_list("id", flat=True))
    if not ids:
        return 0
    AssetPresence.objects.filter(asset_id__in=ids, seen_until__isnull=True).update(seen_until=at)
    return Asset.objects.filter(pk__in=ids).update(removed_at=at)


@transaction.atomic
def scan_removal_confirm(*, actor, run: ScanRun) -> ScanRun:
    """Apply the removals a run withheld, scope by scope; audited, with an outbox event. Refused when none is withheld.

    Only assets no scan has seen since the run are removed (a later scan that saw a machine again wins).
    """
    run = ScanRun.objects.select_for_update().select_related("connector", "organization").get(pk=run.pk)
    ensure_permitted_on(actor, run, "change")
    keys = run.suspect_scopes
    if not keys:
        raise ValidationError(f"scan {run.pk} has no withheld removal to confirm", code="nothing_to_confirm")
    seen_at, now = run.started_at, timezone.now()
    removed_by_scope = {}
    for key in keys:
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
