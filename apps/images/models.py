"""The golden image registry: families, versions (with validated contracts and ancestry), artifacts, channels."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.choices import PlatformChoices
from apps.tenancy.models import TenantModel
from apps.tenancy.querysets import AppendOnlyQuerySet

from .choices import ArtifactRuleKindChoices, ImageVersionStatusChoices, OsFamilyChoices, VersionSchemeChoices


class ImageFamily(TenantModel):
    """A line of golden images built from one contract (e.g. ``ubuntu-2204-base``)."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="image_families")
    project = models.ForeignKey("tenancy.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    os_family = models.CharField(max_length=16, choices=OsFamilyChoices.choices, default=OsFamilyChoices.LINUX)
    version_scheme = models.CharField(
        max_length=16,
        choices=VersionSchemeChoices.choices,
        default=VersionSchemeChoices.SEMVER,
        help_text="How the family's versions are numbered and ordered (from its contract; ADR 011).",
    )
    description = models.TextField(blank=True)

    permission_scope = "images"
    project_path = "project"

    class Meta:
        ordering = ["organization", "name"]
        verbose_name_plural = "image families"
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="imagefamily_unique_slug")]

    def __str__(self) -> str:
        return self.slug


class ImageVersion(TenantModel):
    """One build of a family. ``version_key`` is the version's rank in its family under the family's scheme, so SQL
    orders versions as the scheme does (never string order; recomputed for the family at each registration)."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="image_versions")
    family = models.ForeignKey(ImageFamily, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=64)
    version_key = models.CharField(max_length=96, editable=False, db_index=True)
    status = models.CharField(
        max_length=16, choices=ImageVersionStatusChoices.choices, default=ImageVersionStatusChoices.DRAFT
    )
    contract = models.JSONField(help_text="The validated image contract this version was built from.")
    contract_digest = models.CharField(max_length=64, help_text="SHA-256 of the contract's canonical JSON.")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    released_at = models.DateTimeField(null=True, blank=True)
    deprecated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When revocation takes (or took) effect.")
    revocation_reason = models.TextField(blank=True)
    revoked_via = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The ancestor whose revocation this version inherited.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "images"
    project_path = "family__project"

    class Meta:
        ordering = ["family", "-version_key"]
        constraints = [models.UniqueConstraint(fields=["family", "version"], name="imageversion_unique_version")]
        indexes = [models.Index(fields=["family", "version_key"], name="imageversion_order")]

    def __str__(self) -> str:
        return f"{self.family.slug}@{self.version}"

    def is_revoked_at(self, at) -> bool:
        """Revoked (now, or by a scheduled revocation that has taken effect) at ``at``."""
        return self.revoked_at is not None and self.revoked_at <= at


class ImageArtifact(TenantModel):
    """Where a version lives on one platform: an AMI per region, a gallery image version, a GCP image, a template."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="image_artifacts")
    version = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="artifacts")
    platform = models.CharField(max_length=16, choices=PlatformChoices.choices)
    account = models.CharField(max_length=200, blank=True, help_text="AWS account, Azure subscription, GCP project.")
    region = models.CharField(max_length=100, blank=True)
    image_ref = models.CharField(max_length=500, help_text="The platform's own id for the image.")
    ref_key = models.CharField(max_length=500, editable=False, help_text="image_ref as the platform compares it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "images"
    project_path = "version__family__project"

    class Meta:
        ordering = ["version", "platform", "region"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "platform", "ref_key"], name="imageartifact_unique_ref")
        ]
        indexes = [models.Index(fields=["organization", "platform", "ref_key"], name="imageartifact_match")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.image_ref}"


class Channel(TenantModel):
    """The golden version of a family for one environment, with a grace period after each promotion."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="channels")
    family = models.ForeignKey(ImageFamily, on_delete=models.CASCADE, related_name="channels")
    environment = models.ForeignKey("tenancy.Environment", on_delete=models.CASCADE, related_name="channels")
    version = models.ForeignKey(ImageVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    grace_days = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(365)])

    permission_scope = "images"
    project_path = "family__project"

    class Meta:
        ordering = ["family", "environment"]
        constraints = [models.UniqueConstraint(fields=["family", "environment"], name="channel_unique_env")]

    def __str__(self) -> str:
        return f"{self.family.slug}/{self.environment.slug}"


class ChannelAssignment(TenantModel):
    """One promotion or rollback of a channel: who, when, from, to. Append-only; answers "golden on date D"."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="assignments")
    from_version = models.ForeignKey(ImageVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_version = models.ForeignKey(ImageVersion, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    grace_until = models.DateTimeField(help_text="Until then, from_version still counts as compliant.")
    is_rollback = models.BooleanField(default=False)
    imported = models.BooleanField(
        default=False, help_text="Brought in from the organisation's past (channel history import), not made here."
    )

    objects = AppendOnlyQuerySet.as_manager()

    permission_scope = "images"
    project_path = "channel__family__project"

    class Meta:
        ordering = ["channel", "-assigned_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(grace_until__gte=models.F("assigned_at")), name="assignment_grace_order")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.from_version} → {self.to_version} at {self.assigned_at:%Y-%m-%d %H:%M}"


class ArtifactRule(TenantModel):
    """How the images a scan discovers attach to registered versions without registering each id by hand (ADR 025).

    ``tags``: the family tag names the family (or the rule's family does), the version tag its version.
    ``name_pattern``: a regex searched in the image name with a ``version`` group (and an optional ``family`` group).
    ``copy_source``: an image copied from a registered image (AWS ``SourceImageId``, CopyImage's
    ``[Copied ami-… from region]`` description, or the same name in the same account) is the same version.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="artifact_rules")
    family = models.ForeignKey(
        ImageFamily,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="artifact_rules",
        help_text="Limit the rule to one family; empty = the family the image's tag or name states.",
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ArtifactRuleKindChoices.choices)
    platform = models.CharField(max_length=16, choices=PlatformChoices.choices, blank=True, help_text="Empty = any.")
    family_tag = models.CharField(max_length=128, default="Family", blank=True)
    version_tag = models.CharField(max_length=128, default="Version", blank=True)
    name_pattern = models.CharField(
        max_length=300, blank=True, help_text=r"e.g. ^golden-(?P<family>[a-z0-9-]+)-v(?P<version>\d+\.\d+\.\d+)$"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "images"
    project_path = "family__project"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="artifactrule_unique_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .artifact_matching import compile_rule_pattern

        if self.kind == ArtifactRuleKindChoices.NAME_PATTERN:
            compile_rule_pattern(self.name_pattern, needs_family=self.family_id is None)
        if self.kind == ArtifactRuleKindChoices.TAGS and not self.version_tag:
            raise ValidationError({"version_tag": "a tag rule needs the name of the version tag"}, code="required")
        if self.kind == ArtifactRuleKindChoices.TAGS and not self.family_tag and self.family_id is None:
            raise ValidationError({"family_tag": "name the family tag, or choose the rule's family"}, code="required")
