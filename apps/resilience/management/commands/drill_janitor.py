from django.core.management.base import BaseCommand, CommandError

from apps.resilience.services import drill_janitor_sweep


class Command(BaseCommand):
    help = "Abandon overdue drill runs and destroy what inactive runs left behind (what the scheduled janitor does)."

    def handle(self, *args, **options):
        report = drill_janitor_sweep()
        self.stdout.write(f"abandoned {report.abandoned} run(s), destroyed {len(report.destroyed)} resource(s)")
        for resource in report.destroyed:
            self.stdout.write(f"  destroyed {resource}")
        if report.errors:
            raise CommandError("; ".join(report.errors))
