"""Demo drift history: today's real snapshot, plus 90 days of synthetic daily history so the trend charts show a curve.

The history is fabricated, and labelled so: its snapshots carry the trigger ``demo``. Counts are derived from the
current snapshot with a deterministic curve (a promotion every 30 days makes machines outdated, then teams rebuild);
no outdated-asset lists are fabricated, so as-of lists for those days are empty.
"""

from __future__ import annotations

import datetime
import math

from .choices import SnapshotTriggerChoices
from .models import DriftSnapshot, DriftSnapshotRow
from .services import drift_snapshot_write

HISTORY_DAYS = 90
PROMOTION_EVERY = 30
PROMOTION_OFFSET = 9  # days between the latest synthetic promotion and today


def _drift_factor(days_ago: int) -> float:
    """Outdated machines ``days_ago`` relative to today: a saw-tooth that jumps at each promotion and decays."""

    def level(d: int) -> float:
        since_promotion = (PROMOTION_OFFSET - d) % PROMOTION_EVERY
        return 0.45 + 1.3 * math.exp(-since_promotion / 8)

    return level(days_ago) / level(0)


def _wobble(days_ago: int, index: int) -> float:
    """A small deterministic variation per day and cell (±4 %), so lines are not perfectly smooth."""
    return 1 + 0.04 * math.sin(days_ago * 1.7 + index * 2.3)


def _past_row(row: DriftSnapshotRow, snapshot: DriftSnapshot, days_ago: int, index: int) -> DriftSnapshotRow:
    pool = row.compliant + row.outdated
    outdated = min(pool, max(0, round(row.outdated * _drift_factor(days_ago) * _wobble(days_ago, index))))
    oldest = None
    if outdated:
        since_promotion = (PROMOTION_OFFSET - days_ago) % PROMOTION_EVERY
        oldest = max(since_promotion, (row.oldest_drift_days or 0) - days_ago)
    return DriftSnapshotRow(
        organization_id=row.organization_id,
        snapshot=snapshot,
        environment_id=row.environment_id,
        environment_slug=row.environment_slug,
        platform=row.platform,
        site_id=row.site_id,
        site_slug=row.site_slug,
        total=row.total,
        compliant=pool - outdated,
        outdated=outdated,
        unmanaged=row.unmanaged,
        stale=row.stale,
        not_running=row.not_running,
        oldest_drift_days=oldest,
    )


def load(context: dict) -> list[str]:
    """Write today's snapshot and backfill HISTORY_DAYS of daily synthetic history, once (idempotent)."""
    organization = context["organization"]
    if DriftSnapshot.objects.filter(organization=organization, trigger=SnapshotTriggerChoices.DEMO).exists():
        return ["Drift history: demo history already present"]
    current = drift_snapshot_write(organization=organization, trigger=SnapshotTriggerChoices.MANUAL)
    rows = list(current.rows.all())
    snapshots = DriftSnapshot.objects.bulk_create(
        DriftSnapshot(
            organization=organization,
            taken_at=current.taken_at - datetime.timedelta(days=days_ago),
            trigger=SnapshotTriggerChoices.DEMO,
        )
        for days_ago in range(1, HISTORY_DAYS + 1)
    )
    DriftSnapshotRow.objects.bulk_create(
        _past_row(row, snapshot, days_ago, index)
        for days_ago, snapshot in enumerate(snapshots, start=1)
        for index, row in enumerate(rows)
    )
    return [f"Drift history: today's snapshot and {HISTORY_DAYS} days of synthetic demo history (trigger 'demo')"]
