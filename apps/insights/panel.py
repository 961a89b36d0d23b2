"""The insight a "Why?" panel shows (dashboard, environment and cell pages)."""

from __future__ import annotations

import logging

from .providers import rephrase_for
from .scope import InsightScope
from .services import insight_get

logger = logging.getLogger(__name__)


def why_panel(organization, scope: InsightScope | None = None):
    """The scope's insight; None (and a log line) if it cannot be computed, so no page breaks on it."""
    try:
        return insight_get(organization, scope or InsightScope(), rephrase=rephrase_for(organization))
    except Exception:
        logger.exception("insights: the Why? panel of %s could not be computed", organization.slug)
        return None
