"""Insights in reports and evidence packs: the top causes with their provenance (deterministic, or which model)."""

from __future__ import annotations

import datetime

from apps.drift.selectors import DriftQueryError

from .panel import why_panel
from .scope import insight_scope

TOP = 3


def insight_summary(insight, top: int = TOP) -> dict | None:
    """The shown narrative, the top causes and the provenance of an insight, as plain data (None: no insight)."""
    if insight is None:
        return None
    provenance = {"kind": insight.provenance, "template_id": insight.template_id,
                  "template_version": insight.template_version}  # fmt: skip
    if insight.provider:
        provenance.update(provider=insight.provider, model=insight.model, prompt_version=insight.prompt_version,
                          model_status=insight.model_status, rejection=insight.rejection)  # fmt: skip
    keys = ("rank", "kind", "key", "machines", "share_pct", "confidence", "confidence_level", "evidence", "remediation")
    return {
        "scope": insight.facts.get("scope", {}),
        "at": insight.facts.get("at"),
        "narrative": insight.narrative,
        "risk_summary": insight.risk_summary,
        "provenance": provenance,
        "causes": [{key: cause[key] for key in keys} for cause in insight.causes[:top]],
    }


def insight_as_of(organization, *, environment: str | None, at: datetime.datetime | None) -> dict | None:
    """The summary of an environment (or the organisation) live or as of ``at``; None when it has no answer."""
    try:
        scope = insight_scope(organization, environment=environment, as_of=at.isoformat() if at else None)
    except DriftQueryError:
        return None
    return insight_summary(why_panel(organization, scope))
