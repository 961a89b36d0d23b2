from django.core.management.base import BaseCommand, CommandError

from apps.resilience.definitions import format_fault, validate_drill_file


class Command(BaseCommand):
    help = "Validate drill definition files; prints 'file:line: /pointer: message' per fault, exit 0 only if all valid."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")

    def handle(self, *args, files, **options):
        invalid = 0
        for name in files:
            try:
                result = validate_drill_file(name)
            except OSError as exc:
                self.stderr.write(f"{name}: cannot read: {exc.strerror}")
                invalid += 1
                continue
            if result.valid:
                self.stdout.write(f"{name}: valid {result.kind} (sha256 {result.digest})")
                continue
            invalid += 1
            for fault in result.faults:
                self.stderr.write(format_fault(name, fault))
        if invalid:
            raise CommandError(f"{invalid} of {len(files)} drill definition file(s) invalid")
