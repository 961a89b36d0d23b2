from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from apps.events.services.replay import events_replay
from apps.events.transports import TransportError, transport_get
from apps.tenancy.models import Organization


def _time(value: str | None, name: str):
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"{name} must be an ISO 8601 time with a zone, e.g. 2026-01-31T00:00:00Z; got {value!r}")
    return parsed


class Command(BaseCommand):
    help = "Republish stored events of one organisation with their original ids, marked as replays."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--since", help="from this time (inclusive, ISO 8601)")
        parser.add_argument("--until", help="to this time (exclusive, ISO 8601)")
        parser.add_argument("--after", type=int, help="after this sequence number")
        parser.add_argument("--type", default="", help="event type pattern, e.g. 'image.*'")
        parser.add_argument("--to", help="transport (default QLRF_EVENTS_TRANSPORT)")

    def handle(self, *args, org, since=None, until=None, after=None, type="", to=None, **options):  # noqa: A002
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"unknown organization {org!r}")
        since, until = _time(since, "--since"), _time(until, "--until")
        if since and until and since >= until:
            raise CommandError("--since must be before --until")
        try:
            transport = transport_get(to)
            sent = events_replay(
                transport=transport, organization=organization, since=since, until=until, after=after,
                type_pattern=type,
            )  # fmt: skip
        except (ValueError, TransportError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"replayed {len(sent)} event(s) of {org} via {transport.slug}")
