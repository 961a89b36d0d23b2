"""Demo tenancy: the Acme organisation (projects, environments, sites, a user per role) and Globex beside it."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from .choices import EnvironmentTierChoices, RoleChoices, SiteKindChoices
from .models import Organization
from .services import environment_create, membership_add, organization_create, project_create, site_create

DEMO_ORG = "acme"
DEMO_PASSWORD_SUFFIX = "-demo-pass"
ENVIRONMENTS = [
    ("Development", "dev", EnvironmentTierChoices.DEV),
    ("Staging", "staging", EnvironmentTierChoices.STAGING),
    ("Production", "prod", EnvironmentTierChoices.PROD),
]
SITES = [
    ("AWS eu-west-1", "aws-eu-west-1", SiteKindChoices.CLOUD_REGION, "aws", "eu-west-1"),
    ("AWS us-east-1", "aws-us-east-1", SiteKindChoices.CLOUD_REGION, "aws", "us-east-1"),
    ("Azure West Europe", "azure-westeurope", SiteKindChoices.CLOUD_REGION, "azure", "westeurope"),
    ("GCP europe-west1", "gcp-europe-west1", SiteKindChoices.CLOUD_REGION, "gcp", "europe-west1"),
    ("Frankfurt DC", "dc-frankfurt", SiteKindChoices.DATACENTER, "vsphere", "dc-frankfurt"),
    ("Berlin DC (legacy)", "dc-berlin", SiteKindChoices.DATACENTER, "vsphere", "dc-berlin"),
]


def _user(username: str, *, staff: bool):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": staff})
    if created:
        user.set_password(username + DEMO_PASSWORD_SUFFIX)
        user.save()
    return user


def _grant_task_views(user) -> None:
    """Let ``user`` read the task cluster's failures, successes and schedules in the admin (installation-wide)."""
    from django.contrib.auth.models import Permission

    codenames = ["view_failure", "view_success", "view_schedule"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_q", codename__in=codenames))


def _organization(slug: str, name: str, description: str) -> tuple[Organization, bool]:
    existing = Organization.objects.filter(slug=slug).first()
    if existing:
        return existing, False
    org = organization_create(actor=None, name=name, slug=slug, description=description)
    for env_name, env_slug, tier in ENVIRONMENTS:
        environment_create(actor=None, organization=org, name=env_name, slug=env_slug, tier=tier)
    return org, True


def load(context: dict) -> list[str]:
    """Create the demo tenants once; return the login lines."""
    acme, created = _organization(DEMO_ORG, "Acme Corp", "Demo organisation: a fleet on AWS, Azure, GCP and vSphere.")
    context["organization"] = acme
    if created:
        for name, slug in [("Platform", "platform"), ("Payments", "payments")]:
            project_create(actor=None, organization=acme, name=name, slug=slug)
        for name, slug, kind, platform, region in SITES:
            site_create(
                actor=None, organization=acme, name=name, slug=slug, kind=kind, platform=platform, region=region
            )
        for role in RoleChoices.values:
            user = _user(role, staff=role in (RoleChoices.ENGINEER, RoleChoices.ADMIN))
            membership_add(actor=None, organization=acme, user=user, role=role)
            if role == RoleChoices.ADMIN:  # the demo's admin also plays the platform operator
                _grant_task_views(user)
        globex, _ = _organization("globex", "Globex", "A second tenant: Acme's users never see it.")
        membership_add(actor=None, organization=globex, user=_user("globex-admin", staff=True), role=RoleChoices.ADMIN)
    lines = [f"Organisation {acme.name} ({acme.slug}); log in at http://127.0.0.1:8000/ as:"]
    lines += [f"  {role:<9} password {role}{DEMO_PASSWORD_SUFFIX}" for role in RoleChoices.values]
    lines.append(f"  globex-admin (another tenant) password globex-admin{DEMO_PASSWORD_SUFFIX}")
    return lines
