"""The badge filter shared by the image and asset lists (API and portal): ``?badge=<badge>:<status>``."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError

from .badges import BADGES
from .selectors import BADGE_STATUSES, version_ids_with_badge


def parse_badge(value: str) -> tuple[str, str]:
    """``signed:fail`` → ("signed", "fail"); a clear 400 for anything else."""
    badge, _, status = value.partition(":")
    if badge not in BADGES or status not in BADGE_STATUSES:
        raise ValidationError(
            f"badge must look like <badge>:<status> with badge in {', '.join(BADGES)} and status in "
            f"{', '.join(BADGE_STATUSES)}",
            code="invalid_badge",
        )
    return badge, status


class BadgeFilter(django_filters.CharFilter):
    """Keep rows whose image version has the badge status; ``version_path`` leads from the row to its version."""

    def __init__(self, *args, version_path: str = "", **kwargs):
        kwargs.setdefault("help_text", "<badge>:<status>, e.g. signed:fail, cis:pass, sbom:fail")
        kwargs.setdefault("validators", [parse_badge])  # a bad value is a form error (400), never a 500
        super().__init__(*args, **kwargs)
        self.version_path = version_path

    def filter(self, qs, value):
        if not value:
            return qs
        from apps.images.models import ImageVersion

        badge, status = parse_badge(value)
        if self.version_path:
            versions = ImageVersion.objects.filter(pk__in=qs.values(self.version_path)).select_related("family")
        else:
            versions = qs.select_related("family")
        ids = version_ids_with_badge(versions, badge, status)
        return qs.filter(**{f"{self.version_path}__in" if self.version_path else "pk__in": ids})
