from django.core.management.base import BaseCommand, CommandError

from apps.events.transports.kafka import topics_ensure


class Command(BaseCommand):
    help = "rf events topics ensure: create the missing per-family Kafka topics (partitions, retention configured)."

    def add_arguments(self, parser):
        parser.add_argument("verb", choices=["ensure"])

    def handle(self, *args, verb, **options):
        try:
            created = topics_ensure()
        except Exception as exc:  # noqa: BLE001 - KafkaException: one readable line
            raise CommandError(f"kafka: {exc}") from None
        self.stdout.write(f"created {len(created)} topic(s)" + (f": {', '.join(created)}" if created else ""))
