import signal

from django.core.management.base import BaseCommand, CommandError

from apps.events.heartbeat import Heartbeat
from apps.events.services.relay import backlog, relay_run
from apps.events.transports import TransportError, transport_get


class Command(BaseCommand):
    help = "Publish the outbox through the configured transport (QLRF_EVENTS_TRANSPORT); runs until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass over everything pending, then exit")
        parser.add_argument("--transport", help="override QLRF_EVENTS_TRANSPORT (none, redis, kafka, webhook)")
        parser.add_argument("--batch-size", type=int, help="events per transaction (QLRF_EVENTS_BATCH_SIZE)")

    def handle(self, *args, once=False, transport=None, batch_size=None, **options):
        from django.conf import settings

        if batch_size:
            if batch_size < 1:
                raise CommandError("--batch-size must be at least 1")
            settings.QLRF_EVENTS_BATCH_SIZE = batch_size
        try:
            chosen = transport_get(transport)
        except (ValueError, TransportError) as exc:
            raise CommandError(str(exc)) from None
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            heartbeat = None if once else Heartbeat(settings.QLRF_EVENTS_HEARTBEAT_DIR, "relay")
            total = relay_run(chosen, once=once, stop=lambda: bool(stopping), heartbeat=heartbeat)
        except TransportError as exc:
            raise CommandError(str(exc)) from None
        finally:
            chosen.close()
        state = backlog()
        self.stdout.write(f"published {total} event(s) via {chosen.slug}; backlog {state['pending']}")
