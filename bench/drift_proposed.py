"""The drift changes proposed in ``docs/performance.md``, installed into a benchmark process only (never in ``apps/``).

1. ``fleet_at`` flags stale assets with a correlated subquery: PostgreSQL runs it once per asset (a SubPlan with
   ``loops`` = the fleet). The latest finished scan per connector is a handful of rows: read it once, and the stale
   flag becomes a ``CASE`` over the connectors. Same rows, same flag; ``drift_evaluate`` and ``outdated_assets`` use it.
2. ``live_cells`` loads each inline outdated asset as a model with ``select_related`` environment, site, version and
   family: every column, the version's whole contract JSON and ~10 timestamps per row, parsed in Python, only to read
   seven fields. Reading those seven with ``values_list`` (the version label is already in ``evaluation.labels``) gives
   the same ``OutdatedAsset`` rows.
"""

from __future__ import annotations

import datetime

from django.db.models import BooleanField, Case, F, Max, Q, Value, When, Window
from django.db.models.functions import RowNumber

from apps.inventory.models import Asset, ScanRun


def fleet_at(organization, at: datetime.datetime):
    """The assets as they stood at ``at``, with ``stale`` from one read of the latest scan per connector."""
    from apps.drift.engine import FINISHED

    latest = (
        ScanRun.objects.filter(organization=organization, status__in=FINISHED, started_at__lte=at)
        .values("connector_id")
        .annotate(started=Max("started_at"))
        .order_by()
    )
    whens = [When(connector_id=row["connector_id"], last_seen__lt=row["started"], then=Value(True)) for row in latest]
    stale = Case(*whens, default=Value(False), output_field=BooleanField()) if whens else Value(False)
    return (
        Asset.objects.filter(organization=organization, first_seen__lte=at)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at))
        .annotate(stale=stale)
    )


def live_cells(organization, evaluation) -> tuple[dict, dict]:
    """``apps.drift.reports.live_cells`` reading only the seven fields the inline outdated rows show."""
    from apps.drift.engine import outdated_assets
    from apps.drift.reports import INLINE_OUTDATED, OutdatedAsset, _days
    from apps.tenancy.models import Environment, Site

    envs = dict(Environment.objects.filter(organization=organization).values_list("id", "slug"))
    sites = dict(Site.objects.filter(organization=organization).values_list("id", "slug"))
    cells = {(envs.get(e), p, sites.get(s)): cell for (e, p, s), cell in evaluation.cells.items()}
    ranked = (
        outdated_assets(organization, evaluation)
        .select_related(None)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("environment_id"), F("platform"), F("site_id")],
                order_by=[F("outdated_since").asc(), F("instance_id").asc()],
            )
        )
        .filter(rank__lte=INLINE_OUTDATED)
        .values_list(
            "instance_id", "name", "platform", "environment_id", "site_id", "image_version_id", "outdated_since"
        )
    )
    outdated: dict[tuple, list[OutdatedAsset]] = {}
    for instance_id, name, platform, env_id, site_id, version_id, since in ranked:
        verdict = evaluation.verdicts[(env_id, version_id)]
        key = (envs.get(env_id), platform, sites.get(site_id))
        outdated.setdefault(key, []).append(
            OutdatedAsset(
                instance_id=instance_id,
                name=name,
                platform=platform,
                environment=key[0] or "",
                site=key[2] or "",
                version=evaluation.labels[version_id],
                baseline=verdict.baseline,
                days_behind=_days(since, evaluation.at),
                outdated_since=since,
                reason=verdict.reason,
            )
        )
    return cells, outdated


def install() -> None:
    """Replace ``fleet_at`` and ``live_cells`` where the engine, the selectors and the phases look them up."""
    from apps.drift import engine, reports, selectors

    engine.fleet_at = fleet_at
    reports.live_cells = live_cells
    selectors.live_cells = live_cells
