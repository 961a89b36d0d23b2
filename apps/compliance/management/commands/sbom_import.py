from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.compliance.services import upload_store_and_parse
from qlrf.errors import DocumentRejected

from ._lookup import organization_get, version_get


class Command(BaseCommand):
    help = "Store and import an SBOM (SPDX or CycloneDX) for FAMILY@VERSION; a refused file is kept as rejected."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--image", required=True, help="FAMILY@VERSION")
        parser.add_argument("file", help="the SBOM file")

    def handle(self, *args, org, image, file, **options):
        organization = organization_get(org)
        version = version_get(organization, image)
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot read: {exc.strerror}") from None
        try:
            upload, created = upload_store_and_parse(
                actor=None, version=version, kind="sbom", data=data, filename=path.name
            )
        except DocumentRejected as exc:
            for error in exc.errors:
                self.stderr.write(f"{file}: {error.get('path') or '/'}: {error['code']}: {error['detail']}")
            raise CommandError(f"{file}: SBOM rejected ({exc.code}); the upload is kept as rejected") from None
        sbom = upload.sbom
        state = "imported" if created else "already imported"
        self.stdout.write(
            f"{file}: {state} {sbom.format} {sbom.spec_version} ({sbom.encoding}) with {sbom.package_count} packages "
            f"for {version} (sha256 {upload.sha256})"
        )
