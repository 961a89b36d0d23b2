"""Reads of the drills: restricted lists, the latest result per drill, and the RTO/RPO trend against objectives."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from apps.drift.charts import Series

from .choices import ACTIVE_RUN_STATUSES
from .models import DrillDefinition, DrillRun


def drill_definition_list(user):
    return DrillDefinition.objects.restrict(user, "view").select_related("family", "environment", "connector")


def drill_run_list(user):
    return DrillRun.objects.restrict(user, "view").select_related("definition", "golden_version__family")


def drill_run_get(user, pk: int) -> DrillRun:
    """One run the user may see (DoesNotExist otherwise), with its steps and check results."""
    return drill_run_list(user).prefetch_related("steps", "check_results").get(pk=pk)


@dataclass(frozen=True)
class DrillSummary:
    """A drill with its latest finished run at a moment (None: never run by then)."""

    definition: DrillDefinition
    last_run: DrillRun | None


def drill_summaries(organization, *, at: datetime.datetime | None = None, environment: str | None = None):
    """Each drill of an organisation (already resolved through the door) with its latest finished run at ``at``."""
    definitions = DrillDefinition.objects.filter(organization=organization).select_related("family", "environment")
    if environment:
        definitions = definitions.filter(environment__slug=environment)
    runs = DrillRun.objects.filter(organization=organization).exclude(status__in=ACTIVE_RUN_STATUSES)
    if at is not None:
        runs = runs.filter(finished_at__lte=at)
    latest: dict[int, DrillRun] = {}
    for run in runs.select_related("golden_version__family").order_by("definition_id", "-finished_at", "-id"):
        latest.setdefault(run.definition_id, run)
    return [DrillSummary(d, latest.get(d.pk)) for d in definitions.order_by("name")]


def drill_trend(definition: DrillDefinition, *, limit: int = 30) -> dict[str, list[Series]]:
    """Measured RTO and RPO (minutes) of the latest finished runs, one point per day, each with its objective."""
    runs = list(
        definition.runs.exclude(status__in=ACTIVE_RUN_STATUSES)
        .filter(finished_at__isnull=False)
        .order_by("-finished_at", "-id")[:limit]
    )
    runs.reverse()

    def series(name: str, attribute: str) -> Series:
        points = []
        for run in runs:
            value = getattr(run, attribute)
            points.append((run.finished_at.date(), round(value / 60, 2) if value is not None else None))
        return Series(name, tuple(points))

    return {
        "rto": [series("measured", "rto_seconds"), series("objective", "rto_objective_seconds")],
        "rpo": [series("measured", "rpo_seconds"), series("objective", "rpo_objective_seconds")],
    }


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if moment else None


def drill_evidence_runs(organization, *, environments=(), begin=None, as_of) -> list[dict]:
    """Finished runs of the period as plain records for an evidence pack: outcome, measurements, steps and a count
    of check attempts — only what was written by ``as_of``, so the same period always gives the same records."""
    runs = DrillRun.objects.filter(organization=organization, finished_at__lte=as_of).exclude(
        status__in=ACTIVE_RUN_STATUSES
    )
    if begin is not None:
        runs = runs.filter(finished_at__gte=begin)
    if environments:
        runs = runs.filter(definition__environment__slug__in=environments)
    records = []
    for run in runs.select_related("definition__environment", "golden_version__family").order_by("finished_at", "pk"):
        steps = run.steps.filter(finished_at__lte=as_of).order_by("sequence")
        checks = run.check_results.filter(checked_at__lte=as_of)
        records.append(
            {
                "id": run.pk,
                "drill": run.definition.name,
                "environment": run.definition.environment.slug,
                "definition_digest": run.definition_digest,
                "status": run.status,
                "trigger": run.trigger,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "golden_version": str(run.golden_version) if run.golden_version_id else None,
                "image_ref": run.image_ref,
                "recovery_point_at": _iso(run.recovery_point_at),
                "recovery_point_ref": run.recovery_point_ref,
                "rto_seconds": run.rto_seconds,
                "rto_objective_seconds": run.rto_objective_seconds,
                "rto_met": run.rto_met,
                "rpo_seconds": run.rpo_seconds,
                "rpo_objective_seconds": run.rpo_objective_seconds,
                "rpo_met": run.rpo_met,
                "reasons": list(run.reasons),
                "resources": list(run.resources),
                "steps": [
                    {
                        "sequence": s.sequence,
                        "kind": s.kind,
                        "status": s.status,
                        "started_at": _iso(s.started_at),
                        "finished_at": _iso(s.finished_at),
                        "detail": s.detail,
                    }
                    for s in steps
                ],  # fmt: skip
                "check_attempts": checks.count(),
                "checks_green": checks.filter(passed=True).count(),
            }
        )
    return records
