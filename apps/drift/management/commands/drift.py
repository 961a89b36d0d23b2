import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from apps.drift.selectors import DriftFilters, DriftQueryError, drift_report_build
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Print the drift report: rf drift [--org ORG] [--env ENV] [--platform P] [--site S] [--as-of DATE] [--json]"

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation slug (optional when there is only one).")
        parser.add_argument("--env")
        parser.add_argument("--platform")
        parser.add_argument("--site")
        parser.add_argument("--as-of", dest="as_of")
        parser.add_argument("--json", action="store_true")

    def _organization(self, slug):
        organizations = Organization.objects.filter(slug=slug) if slug else Organization.objects.all()
        if organizations.count() != 1:
            raise CommandError(f"no organization {slug!r}" if slug else "several organizations: use --org")
        return organizations.get()

    def handle(self, *args, org, env, platform, site, as_of, **options):
        organization = self._organization(org)
        try:
            report = drift_report_build(organization, filters=DriftFilters(env, platform, site), as_of=as_of)
        except DriftQueryError as exc:
            raise CommandError(f"--{exc.parameter.replace('_', '-')}: {exc.message}") from None
        if options["json"]:
            self.stdout.write(json.dumps(asdict(report), cls=DjangoJSONEncoder, indent=2))
            return
        if report.source == "snapshot":
            source = (
                f"as of {report.as_of:%Y-%m-%d %H:%M:%S} UTC, from drift snapshot #{report.snapshot_id} "
                f"taken {report.snapshot_taken_at:%Y-%m-%d %H:%M:%S} UTC ({report.snapshot_trigger})"
            )
        else:
            source = f"live, {report.calculated_at:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(f"Drift of {organization.name} ({source})")
        header = (
            f"{'environment':<12}{'platform':<10}{'site':<22}{'total':>7}{'compl.':>8}{'outd.':>7}"
            f"{'unman.':>8}{'stale':>7}{'coverage':>10}  rag"
        )
        self.stdout.write(header)
        for row in [*report.reports, *report.by_environment]:
            coverage = "—" if row.coverage_pct is None else f"{row.coverage_pct:.1f}%"
            self.stdout.write(
                f"{row.environment or '(all)':<12}{row.platform or '(all)':<10}{row.site or '(all)':<22}"
                f"{row.total_assets:>7}{row.compliant_assets:>8}{row.outdated_count:>7}{row.unmanaged_count:>8}"
                f"{row.stale_count:>7}{coverage:>10}  {row.rag or '-'}"
            )
