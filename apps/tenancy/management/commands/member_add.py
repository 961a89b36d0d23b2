from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.tenancy.choices import RoleChoices
from apps.tenancy.models import Project
from apps.tenancy.services import membership_add

from ._base import get_organization, readable


class Command(BaseCommand):
    help = "Add a user to an organization (optionally one project) with a role; creates the user if needed."

    def add_arguments(self, parser):
        parser.add_argument("organization")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(RoleChoices.values)}")
        parser.add_argument("--project", help="Limit the membership to this project (slug).")
        parser.add_argument("--password", help="Set this password when the user is created.")
        parser.add_argument("--email", default="")

    def handle(self, *args, organization, username, role, project, password, email, **options):
        org = get_organization(organization)
        project_obj = None
        if project:
            project_obj = Project.objects.filter(organization=org, slug=project).first()
            if project_obj is None:
                raise CommandError(f"organization {org.slug} has no project {project!r}")
        if role not in RoleChoices.values:
            raise CommandError(f"unknown role {role!r}; expected one of {', '.join(RoleChoices.values)}")
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        if created:
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
        try:
            membership = membership_add(actor=None, organization=org, user=user, role=role, project=project_obj)
        except ValidationError as exc:
            raise readable(exc) from None
        self.stdout.write(f"added {membership}")
