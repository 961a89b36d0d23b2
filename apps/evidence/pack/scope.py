"""The scope of an evidence pack: organisation, environments and the [from, to] period, validated."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from apps.tenancy.models import Environment
from qlrf.errors import field_error


@dataclass(frozen=True)
class PackScope:
    """What a pack covers. ``as_of`` is the end of the ``end`` day (UTC): the only moment the content depends on."""

    organization: object
    environments: tuple[str, ...]  # sorted slugs; empty = every environment
    start: datetime.date | None
    end: datetime.date

    @property
    def as_of(self) -> datetime.datetime:
        return datetime.datetime.combine(self.end, datetime.time.max, tzinfo=datetime.UTC)

    @property
    def begin(self) -> datetime.datetime | None:
        return datetime.datetime.combine(self.start, datetime.time.min, tzinfo=datetime.UTC) if self.start else None

    @property
    def as_of_label(self) -> str:
        return f"{self.end.isoformat()}T23:59:59Z"

    def filters(self) -> dict:
        """The filters as given, in the form kept on the EvidencePack row and written to index.json."""
        return {
            "environments": list(self.environments),
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat(),
        }

    def in_period(self, field: str) -> dict:
        """ORM lookups keeping ``field`` within [begin, as_of]."""
        lookups = {f"{field}__lte": self.as_of}
        if self.begin is not None:
            lookups[f"{field}__gte"] = self.begin
        return lookups


def _date(value, name: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise field_error(name, f"{value!r} is not a date (YYYY-MM-DD)", "invalid_date") from None


def pack_scope_build(*, organization, environments=None, start=None, end=None) -> PackScope:
    """Validate the inputs of a pack: dates, from ≤ to, not in the future, environments known to the organisation."""
    start, end = _date(start, "from"), _date(end, "to")
    today = timezone.now().astimezone(datetime.UTC).date()
    end = end or today
    if end > today:
        raise field_error("to", f"to ({end}) is in the future; a pack describes what is on record", "future_date")
    if start is not None and start > end:
        raise field_error("from", f"from ({start}) is after to ({end})", "invalid_range")
    slugs = sorted({slug for slug in (environments or []) if slug})
    known = set(Environment.objects.filter(organization=organization, slug__in=slugs).values_list("slug", flat=True))
    for slug in slugs:
        if slug not in known:
            raise field_error("environments", f"unknown environment {slug!r}", "unknown_environment")
    return PackScope(organization=organization, environments=tuple(slugs), start=start, end=end)
