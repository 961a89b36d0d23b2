"""Template filters of the "Why?" pages."""

from __future__ import annotations

from django import template

from apps.insights.causes import CAUSE_TITLES

register = template.Library()


@register.filter
def cause_title(kind: str) -> str:
    """The reader's name of a cause kind (``grace_ended`` → "Promoted, grace period ended")."""
    return CAUSE_TITLES.get(kind, str(kind).replace("_", " "))


@register.filter
def spaced(value: str) -> str:
    """A stable code read as words (``limit_reached`` → "limit reached")."""
    return str(value).replace("_", " ")
