from django.core.management.base import BaseCommand

from apps.resilience.models import DrillRun

from ._lookup import describe_run, find_definition


class Command(BaseCommand):
    help = "The latest drill runs, newest first: rf drill history [ORG/NAME] [--limit N]."

    def add_arguments(self, parser):
        parser.add_argument("drill", nargs="?", help="ORG/NAME, NAME or the drill id (default: every drill)")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, drill=None, limit=20, **options):
        runs = DrillRun.objects.select_related("definition__organization").order_by("-created_at", "-id")
        if drill:
            runs = runs.filter(definition=find_definition(drill))
        rows = list(runs[: max(1, limit)])
        if not rows:
            self.stdout.write("no drill runs")
        for run in rows:
            self.stdout.write(describe_run(run))
