import sys

from django.core.management.base import BaseCommand, CommandError

from apps.inventory.choices import ScanTriggerChoices
from apps.inventory.models import Connector
from apps.inventory.services import ScanInProgress, scan_run_now


def _find(reference: str) -> Connector:
    organization, _, name = reference.rpartition("/")
    queryset = Connector.objects.select_related("organization")
    found = (
        queryset.filter(pk=int(reference))
        if reference.isdigit()
        else queryset.filter(organization__slug=organization, name=name)
        if organization
        else queryset.filter(name=name)
    )
    if found.count() != 1:
        raise CommandError(f"no single connector matches {reference!r}; use ORG/NAME or the connector id")
    return found.get()


class Command(BaseCommand):
    help = "Scan a connector now, synchronously, with a progress bar: rf scan ORG/NAME (or the connector id)."

    def add_arguments(self, parser):
        parser.add_argument("connector")

    def _progress(self, run):
        done = sum(1 for s in run.scopes.values() if s.get("status") in ("succeeded", "failed"))
        total = len(run.scopes) or 1
        found = sum(s.get("discovered", 0) for s in run.scopes.values())
        bar = "#" * (30 * done // total)
        if sys.stderr.isatty():
            self.stderr.write(f"\r[{bar:<30}] {done}/{total} scopes, {found} machines", ending="")

    def handle(self, *args, connector, **options):
        target = _find(connector)
        try:
            run = scan_run_now(actor=None, connector=target, trigger=ScanTriggerChoices.CLI, on_progress=self._progress)
        except ScanInProgress as exc:
            raise CommandError(str(exc)) from None
        if sys.stderr.isatty():
            self.stderr.write("")
        self.stdout.write(
            f"scan {run.pk} of {target.name}: {run.status} — discovered {run.discovered}, new {run.new}, "
            f"updated {run.updated}, unchanged {run.unchanged}, removed {run.removed}"
        )
        if run.status != "succeeded":
            raise CommandError(f"scan {run.status}: {run.error}")
