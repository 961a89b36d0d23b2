"""Per-machine drift on asset lists: status, baseline and drift start as SQL annotations, never a loop over assets.

The verdicts come from the engine's ``Rules`` (channel timelines, grace, revocation) for every (environment, version)
of the organisation — computed in memory, a few hundred small decisions — and become a handful of ``CASE WHEN``
branches grouped by environment and drift start. Listing, filtering by status and paging stay one query each.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Case, CharField, DateTimeField, Q, Value, When
from django.utils import timezone

from apps.tenancy.models import Environment

from .engine import Rules, stale_condition

DRIFT_STATUSES = ("current", "outdated", "unmanaged", "stale", "removed")


def _env(env_id: int | None) -> Q:
    return Q(environment__isnull=True) if env_id is None else Q(environment_id=env_id)


def _org_branches(organization, at: datetime.datetime):
    """(outdated branches, drift-start branches, baseline branches, stale condition) of one organisation."""
    rules = Rules(organization, at)
    env_ids: list[int | None] = [*Environment.objects.filter(organization=organization).values_list("id", flat=True)]
    env_ids.append(None)
    outdated: dict[int | None, list[int]] = defaultdict(list)
    since: dict[tuple[int | None, datetime.datetime], list[int]] = defaultdict(list)
    for env_id in env_ids:
        for version_id in rules.versions:
            verdict = rules.verdict(env_id, version_id)
            if not verdict.compliant:
                outdated[env_id].append(version_id)
                since[(env_id, verdict.outdated_since)].append(version_id)
    org = Q(organization_id=organization.pk)
    status = [When(org & _env(e) & Q(image_version_id__in=vs), then=Value("outdated")) for e, vs in outdated.items()]
    starts = [
        When(org & _env(e) & Q(image_version_id__in=vs), then=Value(moment))
        for (e, moment), vs in since.items()
        if moment is not None
    ]
    baselines = []
    for (family_id, env_id), timeline in rules.timelines.items():
        assignment = timeline.in_force(at)
        if assignment is not None:
            label = rules.versions[assignment.to_id].label
            baselines.append(When(org & _env(env_id) & Q(image_version__family_id=family_id), then=Value(label)))
    return status, starts, baselines, stale_condition(organization, at)


def assets_with_drift(queryset, *, organizations, at: datetime.datetime | None = None):
    """``queryset`` of assets annotated with ``drift_status``, ``baseline`` and ``outdated_since`` at ``at`` (now).

    ``current`` is the DESIGN's *compliant* (on the baseline, newer, or the previous one within grace).
    """
    at = at or timezone.now()
    status, starts, baselines, stale = [], [], [], Q(pk__in=[])
    for organization in organizations:
        org_status, org_starts, org_baselines, org_stale = _org_branches(organization, at)
        status += org_status
        starts += org_starts
        baselines += org_baselines
        stale |= org_stale
    return queryset.annotate(
        drift_status=Case(
            When(removed_at__isnull=False, then=Value("removed")),
            When(stale, then=Value("stale")),
            When(image_version__isnull=True, then=Value("unmanaged")),
            *status,
            default=Value("current"),
            output_field=CharField(),
        ),
        baseline=Case(*baselines, default=Value(None), output_field=CharField())
        if baselines
        else Value(None, CharField()),
        outdated_since=Case(*starts, default=Value(None), output_field=DateTimeField())
        if starts
        else Value(None, DateTimeField()),
    )
