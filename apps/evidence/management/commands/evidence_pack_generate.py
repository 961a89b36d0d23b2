"""``rf evidence-pack generate --org ORG [--env ENV…] [--from DATE] [--to DATE] [--out FILE.zip]``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.evidence.services import evidence_pack_generate
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Build an audit evidence pack (a ZIP with index.json) for an organisation, environments and a period."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--env", action="extend", nargs="+", default=[], help="environment slug(s)")
        parser.add_argument("--from", dest="start", help="first day of the period (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", help="last day of the period and the as-of date (default today)")
        parser.add_argument("--out", help="also write the ZIP to this file")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"unknown organization {options['org']!r}")
        try:
            pack = evidence_pack_generate(
                actor=None,
                organization=organization,
                environments=options["env"],
                start=options["start"],
                end=options["end"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["out"]:
            _copy_out(pack, Path(options["out"]))
        state = "empty, " if pack.empty else ""
        self.stdout.write(
            f"evidence pack {pack.pk}: {state}{pack.member_count} files, {pack.size} bytes, sha256 {pack.sha256}"
            + (f" → {options['out']}" if options["out"] else "")
        )


def _copy_out(pack, target: Path) -> None:
    """Write the stored ZIP to ``target`` through a temporary sibling, so no half-written file is left."""
    partial = target.with_name(target.name + ".part")
    try:
        with pack.file.open("rb") as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
