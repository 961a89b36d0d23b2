"""``rf evidence-pack verify FILE.zip``: every member's size and SHA-256 against index.json; non-zero on a mismatch."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.evidence.pack.verify import pack_verify


class Command(BaseCommand):
    help = "Check an evidence pack against its index.json: sizes, SHA-256s, missing and unlisted members."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the evidence pack (.zip)")

    def handle(self, *args, **options):
        result = pack_verify(options["file"])
        if result.code:  # the archive itself is damaged: one line with the stable code (and the member)
            raise CommandError(result.problems[0])
        for problem in result.problems:
            self.stderr.write(f"MISMATCH {problem}")
        if not result.ok:
            raise CommandError(f"{options['file']}: {len(result.problems)} problem(s); the pack is not intact")
        self.stdout.write(f"{options['file']}: OK, {result.checked} members match index.json")
