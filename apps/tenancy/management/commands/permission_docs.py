"""Write (or, with --check, compare) the generated role table in docs/security/tenancy.md."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.tenancy.permission_docs import render, replace_block

DOCUMENT = Path(settings.BASE_DIR) / "docs" / "security" / "tenancy.md"


class Command(BaseCommand):
    help = "Regenerate the role × scope table of docs/security/tenancy.md from apps/tenancy/roles.py."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if the document differs; change nothing")

    def handle(self, *args, check=False, **options):
        text = DOCUMENT.read_text(encoding="utf-8")
        try:
            wanted = replace_block(text, render())
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if check:
            if wanted != text:
                raise CommandError(f"{DOCUMENT} is out of date: run manage.py permission_docs")
            self.stdout.write("up to date")
            return
        DOCUMENT.write_text(wanted, encoding="utf-8")
        self.stdout.write(f"wrote {DOCUMENT}")
