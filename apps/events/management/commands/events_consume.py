from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.events.heartbeat import Heartbeat
from apps.events.services.inbound import inbound_consume
from apps.events.transports import TransportError


class Command(BaseCommand):
    help = "Apply inbound platform events from QLRF_EVENTS_INBOUND_STREAM (Redis Streams); bad ones go to dead letters."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is there, then exit")
        parser.add_argument("--consumer", default="consumer-1", help="consumer name within the group")

    def handle(self, *args, once=False, consumer="consumer-1", **options):
        try:
            heartbeat = None if once else Heartbeat(settings.QLRF_EVENTS_HEARTBEAT_DIR, "consumer")
            counts = inbound_consume(once=once, consumer=consumer, heartbeat=heartbeat)
        except TransportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(", ".join(f"{key} {value}" for key, value in counts.items()))
