from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from apps.tenancy.services import organization_create

from ._base import readable


class Command(BaseCommand):
    help = "Create an organization (a tenant)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", help="Display name (defaults to the slug).")
        parser.add_argument("--description", default="")

    def handle(self, *args, slug, name, description, **options):
        try:
            organization = organization_create(actor=None, name=name or slug, slug=slug, description=description)
        except ValidationError as exc:
            raise readable(exc) from None
        self.stdout.write(f"created organization {organization.slug}")
