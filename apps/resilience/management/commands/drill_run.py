from django.core.management.base import BaseCommand, CommandError

from apps.resilience.choices import DrillRunTriggerChoices
from apps.resilience.services import DrillInProgress, drill_run_execute, drill_run_request, drill_run_start

from ._lookup import describe_run, find_definition


class Command(BaseCommand):
    help = (
        "Run a drill: rf drill run ORG/NAME queues it (run by the task cluster, or in-process without one); "
        "--wait runs it here and exits non-zero unless it passed."
    )

    def add_arguments(self, parser):
        parser.add_argument("drill", help="ORG/NAME, NAME or the drill id")
        parser.add_argument("--wait", action="store_true", help="run synchronously and print the outcome")

    def handle(self, *args, drill, wait=False, **options):
        definition = find_definition(drill)
        try:
            if not wait:
                run = drill_run_request(actor=None, definition=definition, trigger=DrillRunTriggerChoices.MANUAL)
                run.refresh_from_db()
                self.stdout.write(describe_run(run))
                return
            run = drill_run_start(actor=None, definition=definition, trigger=DrillRunTriggerChoices.MANUAL)
        except DrillInProgress as exc:
            raise CommandError(exc.detail) from None
        run = drill_run_execute(run=run)
        self.stdout.write(describe_run(run))
        for reason in run.reasons:
            self.stdout.write(f"  {reason}")
        if run.status != "passed":
            raise CommandError(f"drill {definition.name} {run.status}")
