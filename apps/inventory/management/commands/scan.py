import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.inventory.choices import ScanTriggerChoices
from apps.inventory.models import Connector, ScanRun
from apps.inventory.services import ScanInProgress, scan_removal_confirm, scan_run_now


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
    help = (
        "Scan a connector now, synchronously, with a progress bar: rf scan ORG/NAME (or the connector id). "
        "rf scan confirm-removal RUN_ID applies the removals the guard withheld in that run (ADR 009)."
    )

    def add_arguments(self, parser):
        parser.add_argument("connector", help="ORG/NAME or the connector id; or confirm-removal")
        parser.add_argument("run_id", nargs="?", help="with confirm-removal: the scan run id")

    def _confirm(self, run_id: str | None) -> None:
        if not run_id or not run_id.isdigit():
            raise CommandError("usage: rf scan confirm-removal RUN_ID (the scan run id, a number)")
        run = ScanRun.objects.filter(pk=int(run_id)).first()
        if run is None:
            raise CommandError(f"no scan run {run_id}")
        try:
            run = scan_removal_confirm(actor=None, run=run)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        self.stdout.write(f"scan {run.pk}: removal confirmed — {run.removed} asset(s) removed in total")

    def _progress(self, run):
        done = sum(1 for s in run.scopes.values() if s.get("status") in ("succeeded", "failed", "suspect"))
        total = len(run.scopes) or 1
        found = sum(s.get("discovered", 0) for s in run.scopes.values())
        bar = "#" * (30 * done // total)
        if sys.stderr.isatty():
            self.stderr.write(f"\r[{bar:<30}] {done}/{total} scopes, {found} machines", ending="")

    def handle(self, *args, connector, run_id=None, **options):
        if connector == "confirm-removal":
            return self._confirm(run_id)
        if run_id is not None:
            raise CommandError(f"unexpected argument {run_id!r}: rf scan ORG/NAME")
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
        for key in run.suspect_scopes:
            self.stdout.write(f"suspect {key}: {run.scopes[key].get('error', '')}")
        if run.suspect_scopes:
            self.stdout.write(f"nothing was removed there; to confirm: rf scan confirm-removal {run.pk}")
        if run.status != "succeeded":
            raise CommandError(f"scan {run.status}: {run.error}")
