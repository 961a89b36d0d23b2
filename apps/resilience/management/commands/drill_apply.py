from django.core.management.base import BaseCommand, CommandError

from apps.resilience.definitions import DEFAULT_MAX_BYTES
from apps.resilience.services import drill_definition_save
from apps.tenancy.models import Organization
from qlrf.errors import DocumentRejected


class Command(BaseCommand):
    help = "Create or replace drill definitions from files: rf drill apply ORG FILE... (by metadata.name)."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="organisation slug")
        parser.add_argument("files", nargs="+")

    def handle(self, *args, organization, files, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"no organisation {organization!r}")
        failed = 0
        for name in files:
            try:
                with open(name, "rb") as handle:
                    data = handle.read(DEFAULT_MAX_BYTES + 1)
                definition = drill_definition_save(actor=None, organization=org, data=data, filename=name)
            except OSError as exc:
                self.stderr.write(f"{name}: cannot read: {exc.strerror}")
                failed += 1
            except DocumentRejected as exc:
                failed += 1
                for error in exc.errors:
                    line = f":{error['line']}" if error.get("line") else ""
                    self.stderr.write(f"{name}{line}: {error['path'] or '/'}: {error['detail']}")
            else:
                schedule = f"schedule {definition.cron}" if definition.cron and definition.enabled else "no schedule"
                self.stdout.write(f"{name}: drill {org.slug}/{definition.name} saved ({schedule})")
        if failed:
            raise CommandError(f"{failed} of {len(files)} drill definition file(s) not saved")
