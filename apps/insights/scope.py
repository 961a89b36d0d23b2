"""The question an insight answers: which part of the fleet (organisation, environment, site, platform, or one cell),
live or as of an instant. Parameters are validated like the drift report's (same 4xx codes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from apps.drift.selectors import DriftFilters, parse_as_of, snapshot_as_of

WINDOW_DAYS = 30  # what "changed recently" means: promotions, revocations and scans in the last 30 days


@dataclass(frozen=True)
class InsightScope:
    environment: str | None = None
    site: str | None = None
    platform: str | None = None
    as_of: datetime.datetime | None = None  # None: live
    snapshot_id: int | None = None  # the snapshot in force at ``as_of``

    @property
    def filters(self) -> DriftFilters:
        return DriftFilters(environment=self.environment, platform=self.platform, site=self.site)

    @property
    def key(self) -> tuple:
        return (
            self.environment or "",
            self.site or "",
            self.platform or "",
            self.as_of.isoformat() if self.as_of else "",
        )

    def as_dict(self) -> dict:
        return {
            "environment": self.environment,
            "site": self.site,
            "platform": self.platform,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "snapshot_id": self.snapshot_id,
        }


def insight_scope(
    organization,
    *,
    environment: str | None = None,
    site: str | None = None,
    platform: str | None = None,
    as_of: str | None = None,
) -> InsightScope:
    """Validate the parameters (DriftQueryError: 400 unknown env/site/platform, invalid_as_of, as_of_in_future; 404
    no_snapshot_before) and resolve ``as_of`` to an instant and the drift snapshot in force then."""
    filters = DriftFilters(environment=environment or None, platform=platform or None, site=site or None)
    filters.validate(organization)
    at = parse_as_of(as_of)
    snapshot = snapshot_as_of(organization, at) if at is not None else None
    return InsightScope(
        environment=filters.environment,
        site=filters.site,
        platform=filters.platform,
        as_of=at,
        snapshot_id=snapshot.pk if snapshot else None,
    )
