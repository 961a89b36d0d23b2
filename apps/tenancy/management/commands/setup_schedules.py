from django.core.management.base import BaseCommand

from qlrf.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create or update the installation's recurring jobs (django-q2 schedules), by name. Idempotent."

    def handle(self, *args, **options):
        for name in schedules_sync():
            self.stdout.write(f"schedule {name} up to date")
