"""``images_sync``: store the images a connector lists in each scope, set-based, and soft-remove the vanished ones.

One ``INSERT … ON CONFLICT DO UPDATE`` per scope (keyed on connector + scope + ref_key) and one UPDATE for the images a
complete listing no longer has. A listing that fails removes nothing and does not fail the scope's machines: the
failure is recorded on the run's scope (``images`` entry) and the previous images stay (DESIGN.md invariant 4).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from django.db import transaction

from apps.images.refs import normalise_image_ref

from ..connectors.base import BaseConnector, ConnectorError, Scope
from ..connectors.base import DiscoveredImage as Found
from ..models import DiscoveredImage, ScanRun

logger = logging.getLogger(__name__)

UPDATE_FIELDS = [
    "platform",
    "account",
    "region",
    "image_ref",
    "name",
    "family",
    "version",
    "state",
    "image_created_at",
    "deprecated_at",
    "owner",
    "public",
    "flagged",
    "replication",
    "source_ref",
    "tags",
    "facts",
    "last_seen",
    "removed_at",
    "last_scan",
]


@dataclass
class ImageCounts:
    discovered: int = 0
    removed: int = 0
    failed_scopes: list[str] = field(default_factory=list)


def _when(value) -> dt.datetime | None:
    """An ISO 8601 time as the platforms report it (``Z`` suffix, date only…), or None when it is not one."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _jsonable(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _row(run: ScanRun, scope: Scope, image: Found, seen_at) -> DiscoveredImage:
    extra = image.extra or {}
    safety = extra.get("safety") or {}
    return DiscoveredImage(
        organization_id=run.organization_id,
        connector_id=run.connector_id,
        platform=image.platform,
        account=image.account[:200],
        region=(image.region or "")[:100],
        scope_key=scope.key,
        image_ref=image.image_ref[:500],
        ref_key=normalise_image_ref(image.platform, image.image_ref)[:500],
        name=(image.name or "")[:300],
        family=(image.family or "")[:200],
        version=(image.version or "")[:64],
        state=(image.state or "")[:32],
        image_created_at=_when(image.created_at),
        deprecated_at=_when(extra.get("deprecation_time") or extra.get("deprecated_at")),
        owner=str(extra.get("owner_alias") or extra.get("owner_id") or "")[:200],
        public=bool(extra.get("public")),
        flagged=bool(safety.get("reported_for_policy_violation")),
        replication=_jsonable(extra.get("replication") or {}),
        source_ref=str(extra.get("source_image_id") or "")[:500],
        tags=_jsonable(image.tags or {}),
        facts=_jsonable(extra),
        first_seen=seen_at,
        last_seen=seen_at,
        removed_at=None,
        last_scan_id=run.pk,
    )


@transaction.atomic
def _store_scope(run: ScanRun, scope: Scope, rows: list[DiscoveredImage], seen_at) -> int:
    """Upsert one complete listing of a scope and soft-remove what it no longer holds; return the removed count."""
    unique = {row.ref_key: row for row in rows}  # a later duplicate wins
    DiscoveredImage.objects.bulk_create(
        list(unique.values()),
        batch_size=500,
        update_conflicts=True,
        unique_fields=["connector", "scope_key", "ref_key"],
        update_fields=UPDATE_FIELDS,
    )
    return (
        DiscoveredImage.objects.filter(connector_id=run.connector_id, scope_key=scope.key, removed_at__isnull=True)
        .exclude(last_seen=seen_at)
        .update(removed_at=seen_at)
    )


def _record(run: ScanRun, key: str, **values) -> None:
    run.image_scopes[key] = values
    ScanRun.objects.filter(pk=run.pk).update(image_scopes=run.image_scopes)


def images_sync(*, run: ScanRun, connector: BaseConnector, scopes: list[Scope]) -> ImageCounts:
    """List every scope's images into ``DiscoveredImage``; a scope whose listing fails keeps its previous images."""
    seen_at = run.started_at
    counts = ImageCounts()
    run.image_scopes = {}
    for scope in scopes:
        try:
            rows = [_row(run, scope, image, seen_at) for image in connector.iter_images(scope)]
            removed = _store_scope(run, scope, rows, seen_at)
        except (ConnectorError, NotImplementedError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            counts.failed_scopes.append(scope.key)
            _record(run, scope.key, status="failed", error=reason[:500])
            continue
        except Exception as exc:
            logger.exception("image listing of scope %s (scan %s) failed unexpectedly", scope.key, run.pk)
            counts.failed_scopes.append(scope.key)
            _record(run, scope.key, status="failed", error=f"internal error: {type(exc).__name__}: {exc}"[:500])
            continue
        counts.discovered += len(rows)
        counts.removed += removed
        _record(run, scope.key, status="succeeded", discovered=len(rows), removed=removed)
    return counts
