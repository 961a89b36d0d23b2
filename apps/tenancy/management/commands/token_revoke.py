from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.tenancy.models import ApiToken
from apps.tenancy.services import token_revoke

from ._base import get_organization, readable


class Command(BaseCommand):
    help = "Revoke an API token by name."

    def add_arguments(self, parser):
        parser.add_argument("organization")
        parser.add_argument("name")

    def handle(self, *args, organization, name, **options):
        org = get_organization(organization)
        token = ApiToken.objects.filter(organization=org, name=name).first()
        if token is None:
            raise CommandError(f"organization {org.slug} has no token named {name!r}")
        try:
            token_revoke(actor=None, token=token)
        except ValidationError as exc:
            raise readable(exc) from None
        self.stdout.write(f"revoked token {token}")
