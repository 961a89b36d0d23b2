from django.core.management.base import BaseCommand

from qlrf.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo organisation and fleet (idempotent) and print the logins."

    def handle(self, *args, **options):
        for line in demo_load():
            self.stdout.write(line)
