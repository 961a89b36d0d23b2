from django.core.management.base import BaseCommand

from apps.events.services.replay import events_prune


class Command(BaseCommand):
    help = "Delete published events older than QLRF_EVENTS_RETENTION_DAYS (unpublished ones are kept)."

    def handle(self, *args, **options):
        self.stdout.write(f"deleted {events_prune()} event(s)")
