"""Tenancy: organisations (the tenant), projects, environments, sites, memberships, API tokens, the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import (
    EndpointClassChoices,
    EnvironmentTierChoices,
    RoleChoices,
    SignaturePolicyChoices,
    SiteKindChoices,
)
from .querysets import AppendOnlyQuerySet, TenantQuerySet
from .roles import PERMISSIONS

TENANCY_PERMISSIONS = tuple(PERMISSIONS.items())


class TenantModel(models.Model):
    """Base of every tenant-owned model: a non-null organization and the ``restrict`` door."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    permission_scope = "organization"
    tenant_path = "organization"
    project_path: str | None = None

    class Meta:
        abstract = True


class AppendOnlyModel(TenantModel):
    """History rows (logs, snapshots, packs): inserted once, never updated or deleted (DESIGN.md invariant 8).

    Retention is the one sanctioned deletion: ``Model.objects.filter(…).expire()``.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is append-only")


class Organization(models.Model):
    """The tenant: nothing of one organisation is ever visible to members of another."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    rag_red_below = models.PositiveSmallIntegerField(
        default=70, validators=[MaxValueValidator(100)], help_text="Coverage % below which a cell is red."
    )
    rag_amber_below = models.PositiveSmallIntegerField(
        default=90, validators=[MaxValueValidator(100)], help_text="Coverage % below which a cell is amber."
    )
    coverage_excludes_not_running = models.BooleanField(
        default=False,
        help_text=(
            "Leave stopped/deallocated machines out of coverage. By default they count like running ones (as AWS "
            "Config counts stopped instances): a machine that can be started again on an outdated image is outdated."
        ),
    )
    strict_documents = models.BooleanField(
        default=False,
        help_text=(
            "Refuse SBOMs and scan results with validation findings (a missing SPDX download location, a licence id "
            "not on the SPDX list, an unnamed SARIF tool). By default they are imported with their findings listed."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    permission_scope = "organization"
    tenant_path = ""
    project_path = None

    class Meta:
        ordering = ["name"]
        permissions = TENANCY_PERMISSIONS
        constraints = [
            models.CheckConstraint(condition=Q(rag_red_below__lte=models.F("rag_amber_below")), name="org_rag_order")
        ]

    def __str__(self) -> str:
        return self.name


class Project(TenantModel):
    """A team's or product's slice of an organisation; memberships may be scoped to one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)

    project_path = ""

    class Meta:
        ordering = ["organization", "name"]
        permissions = TENANCY_PERMISSIONS
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="project_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Environment(TenantModel):
    """A deployment tier with its own channel per image family and its signature policy."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    tier = models.CharField(max_length=16, choices=EnvironmentTierChoices.choices)
    signature_policy = models.CharField(max_length=16, choices=SignaturePolicyChoices.choices)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="environment_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Site(TenantModel):
    """A cloud region or a datacenter, the unit heatmaps and reports group by."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    kind = models.CharField(max_length=16, choices=SiteKindChoices.choices)
    platform = models.CharField(max_length=16, blank=True, help_text="Platform of a cloud region; blank for a DC.")
    region = models.CharField(max_length=100, blank=True, help_text="Region / location / datacenter name.")

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="site_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's role in an organisation, optionally limited to one project."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    role = models.CharField(max_length=16, choices=RoleChoices.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "members"

    class Meta:
        ordering = ["organization", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], condition=Q(project__isnull=True), name="membership_unique_org"
            ),
            models.UniqueConstraint(
                fields=["organization", "user", "project"],
                condition=Q(project__isnull=False),
                name="membership_unique_project",
            ),
        ]

    def __str__(self) -> str:
        scope = f"/{self.project.slug}" if self.project_id else ""
        return f"{self.user} @ {self.organization.slug}{scope} ({self.role})"


class ApiToken(TenantModel):
    """A CI service account's bearer token. Only a SHA-256 of the token is stored; it is shown once at creation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=RoleChoices.choices)
    service_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token")
    key_prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    permission_scope = "tokens"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="apitoken_unique_name")]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.name}"

    def is_usable(self, at=None) -> bool:
        """True when neither revoked nor expired at ``at`` (default now)."""
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class AuditEvent(AppendOnlyModel):
    """One write, who made it and what changed. Append-only: never updated, never deleted."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="audit_events")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_repr = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    permission_scope = "audit"

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action} {self.object_repr}"


def _validate_rate(value: str) -> None:
    from django.core.exceptions import ValidationError
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValidationError(
            "a rate like '600/minute' or '100/second;5000/hour'", code="invalid_rate", params={"value": value}
        ) from None


class RateLimitPolicy(TenantModel):
    """An organisation's own API rate limits for one endpoint class; blank fields keep the settings' defaults."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rate_limit_policies")
    endpoint_class = models.CharField(max_length=16, choices=EndpointClassChoices.choices)
    organization_rate = models.CharField(
        max_length=100, blank=True, validators=[_validate_rate], help_text="Shared by every caller of the organisation."
    )
    principal_rate = models.CharField(
        max_length=100, blank=True, validators=[_validate_rate], help_text="For each user or API token."
    )

    class Meta:
        ordering = ["organization", "endpoint_class"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "endpoint_class"], name="ratelimitpolicy_unique_class")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.endpoint_class}"
