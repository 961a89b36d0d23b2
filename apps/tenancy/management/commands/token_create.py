import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.tenancy.choices import RoleChoices
from apps.tenancy.services import token_create

from ._base import get_organization, readable


class Command(BaseCommand):
    help = "Create an API token for a CI pipeline; the token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("organization")
        parser.add_argument("name")
        parser.add_argument("--role", default=RoleChoices.ENGINEER, help=f"One of: {', '.join(RoleChoices.values)}")
        parser.add_argument("--days", type=int, help="Days until expiry (default QLRF_TOKEN_DEFAULT_DAYS).")

    def handle(self, *args, organization, name, role, days, **options):
        org = get_organization(organization)
        if days is not None and days <= 0:
            raise CommandError("--days must be a positive number")
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        try:
            token, raw = token_create(actor=None, organization=org, name=name, role=role, expires_at=expires_at)
        except ValidationError as exc:
            raise readable(exc) from None
        self.stderr.write(f"token {token} (role {token.role}) expires {token.expires_at:%Y-%m-%d}; store it now:")
        self.stdout.write(raw)
