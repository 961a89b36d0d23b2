"""Reads of insights: facts and ranked causes of one scope (the organisation is already restricted by the caller)."""

from __future__ import annotations

from .causes import rank_causes
from .facts import gather_facts
from .scope import InsightScope


def insight_causes(organization, scope: InsightScope) -> tuple[dict, list[dict]]:
    """(facts, ranked causes) of the scope, computed now from selectors over the fleet, registry and scans."""
    facts = gather_facts(organization, scope)
    return facts, rank_causes(facts)
