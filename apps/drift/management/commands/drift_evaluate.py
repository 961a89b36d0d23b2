from django.core.management.base import BaseCommand, CommandError

from apps.drift.scenarios import ScenarioError, scenario_evaluate, scenario_parse
from apps.drift.scenarios.evaluate import STATUSES


class Command(BaseCommand):
    help = "Score labelled fleet scenarios: print the confusion matrix; exit 0 only with 0 false positives/negatives."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")

    def handle(self, *args, files, **options):
        failures = 0
        for name in files:
            try:
                with open(name, "rb") as handle:
                    scenario = scenario_parse(handle.read())
            except OSError as exc:
                raise CommandError(f"{name}: cannot read: {exc.strerror}") from None
            except ScenarioError as exc:
                raise CommandError(f"{name}: {exc}") from None
            score = scenario_evaluate(scenario)
            self._print(name, score)
            failures += len(score.mismatches)
        if failures:
            raise CommandError(f"{failures} machine(s) misclassified")

    def _print(self, name, score):
        self.stdout.write(f"{name}: {score.name} — {score.total} machines")
        self.stdout.write("  expected \\ computed  " + " ".join(f"{s[:9]:>9}" for s in STATUSES))
        for expected in STATUSES:
            row = score.confusion.get(expected)
            if row:
                self.stdout.write(f"  {expected:<20}" + " ".join(f"{row.get(s, 0):>9}" for s in STATUSES))
        for status in ("compliant", "outdated", "unmanaged", "stale"):
            self.stdout.write(
                f"  {status:<10} false positives {score.false_positives(status)}, "
                f"false negatives {score.false_negatives(status)}"
            )
        for line in score.mismatches:
            self.stderr.write(f"  MISMATCH {line}")
