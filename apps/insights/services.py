"""The writes of insights: store the answer to a question on the current data generation (a cache with provenance),
and an organisation's model provider (audited). Computing an answer reads through selectors; a model, when the
organisation enabled one, may only rephrase it (``apps.insights.providers``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.drift.selectors import drift_live_lifetime
from apps.tenancy.services.audit import audit_record, snapshot
from qlrf.cache_generation import generation

from .models import Insight, InsightProvider
from .narrative import render
from .scope import InsightScope
from .selectors import insight_causes


def _current(organization, key: str, gen: int, now: datetime.datetime) -> Insight | None:
    return (
        Insight.objects.filter(organization=organization, scope_key=key, generation=gen)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def insight_get(organization, scope: InsightScope, *, rephrase=None) -> Insight:
    """The insight of ``scope`` on the organisation's current data, computed at most once per data generation.

    ``rephrase(organization, facts, causes, narrative, template)`` → dict of provider fields (or None): the model
    step, called only when no stored answer exists, so the same question on the same data never calls it twice.
    """
    key = "|".join(scope.key)
    gen = generation(organization)
    now = timezone.now()
    found = _current(organization, key, gen, now)
    if found is not None:
        return found
    facts, causes = insight_causes(organization, scope)
    narrative, risk, spec = render(facts, causes)
    fields = {
        "environment_slug": scope.environment or "",
        "site_slug": scope.site or "",
        "platform": scope.platform or "",
        "as_of": scope.as_of,
        "snapshot_id": scope.snapshot_id,
        "facts": facts,
        "causes": causes,
        "narrative": narrative,
        "deterministic_narrative": narrative,
        "risk_summary": risk,
        "template_id": spec["id"],
        "template_version": spec["version"],
        "expires_at": None if scope.as_of else now + datetime.timedelta(seconds=drift_live_lifetime(organization)),
    }
    if rephrase is not None:
        fields.update(rephrase(organization, facts, causes, narrative, spec) or {})
    try:
        with transaction.atomic():
            Insight.objects.filter(organization=organization, scope_key=key, generation=gen).delete()  # expired
            created = Insight.objects.create(organization=organization, scope_key=key, generation=gen, **fields)
        # read back: a first answer and a cached one are then the same data (jsonb orders object keys its own way)
        return Insight.objects.get(pk=created.pk)
    except IntegrityError:  # another worker stored the same answer first: use it
        found = _current(organization, key, gen, timezone.now())
        if found is None:
            raise
        return found


def insights_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete stored answers older than ``QLRF_INSIGHTS_RETENTION_DAYS``; return how many.

    An insight is a cache with provenance: a pruned answer is recomputed from the data (and its snapshot, for an as-of
    question) the next time it is asked, so only the record of what was shown then is lost — kept for the retention
    window, as the evidence packs that quote one keep their own copy (``insights/causes.json``).
    """
    days = settings.QLRF_INSIGHTS_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    deleted, _ = Insight.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@transaction.atomic
def insight_provider_save(*, actor, provider: InsightProvider) -> InsightProvider:
    """Create or change the organisation's model provider: validated, audited with before/after. The audit bumps the
    organisation's data generation, so no answer rephrased by the previous provider is served after the change."""
    provider.full_clean()
    before = None
    if provider.pk is not None:
        stored = InsightProvider.objects.select_for_update().filter(pk=provider.pk).first()
        before = snapshot(stored) if stored is not None else None
    provider.save()
    action = "insights.provider.create" if before is None else "insights.provider.update"
    audit_record(
        organization=provider.organization,
        actor=actor,
        action=action,
        obj=provider,
        before=before,
        after=snapshot(provider),
    )
    return provider


@transaction.atomic
def insight_provider_delete(*, actor, provider: InsightProvider) -> None:
    """Remove the organisation's model provider (answers are deterministic again), audited."""
    audit_record(
        organization=provider.organization,
        actor=actor,
        action="insights.provider.delete",
        obj=provider,
        before=snapshot(provider),
    )
    provider.delete()
