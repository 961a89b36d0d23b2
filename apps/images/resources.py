"""Import/export of image artifacts (CSV): exports the user's tenant only; imports go through ``image_artifact_add``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from import_export import fields, resources

from .models import ChannelAssignment, ImageArtifact, ImageFamily, ImageVersion
from .refs import normalise_image_ref
from .services import image_artifact_add

COLUMNS = ("family", "version", "platform", "account", "region", "image_ref")


class ImageArtifactResource(resources.ModelResource):
    """One row per artifact: ``family, version, platform, account, region, image_ref``.

    Import never saves a model directly: each row names a version the user may change and is written by the
    ``image_artifact_add`` service (validation, audit, events). Any invalid row rolls the whole import back.
    """

    family = fields.Field(attribute="version__family__slug", column_name="family", readonly=True)
    version = fields.Field(attribute="version__version", column_name="version", readonly=True)

    class Meta:
        model = ImageArtifact
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ()
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_queryset(self):
        """Export and lookups see only what the user may view."""
        return (
            ImageArtifact.objects.restrict(self.user, "view")
            .select_related("version__family")
            .order_by("version__family__slug", "version__version_key", "platform", "region", "image_ref")
        )

    def import_data(self, dataset, **kwargs):
        """Any invalid row rolls back every row: an import is applied whole or not at all."""
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, **kwargs)

    def _version(self, row) -> ImageVersion:
        family, version = (str(row.get(key) or "").strip() for key in ("family", "version"))
        if not family or not version:
            raise ValidationError({"version": "each row needs a family and a version"})
        found = (
            ImageVersion.objects.restrict(self.user, "change")
            .select_related("family", "organization")
            .filter(family__slug=family, version=version)
            .order_by("organization__slug")
        )
        candidates = list(found[:2])
        if not candidates:
            raise ValidationError({"version": f"no image version {family}@{version} that you may change"})
        if len(candidates) > 1:
            raise ValidationError({"version": f"{family}@{version} exists in several of your organisations"})
        return candidates[0]

    def get_or_init_instance(self, instance_loader, row):
        """The existing artifact with this reference (a re-import is skipped), else a new one for the named version."""
        version = self._version(row)
        platform = str(row.get("platform") or "").strip()
        ref_key = normalise_image_ref(platform, str(row.get("image_ref") or ""))
        existing = (
            ImageArtifact.objects.filter(organization=version.organization, platform=platform, ref_key=ref_key)
            .select_related("version__family")
            .first()
        )
        if existing is not None:
            if existing.version_id != version.pk:
                raise ValidationError(
                    {"image_ref": f"{existing.image_ref} is already an artifact of {existing.version}"}
                )
            return existing, False
        return ImageArtifact(organization=version.organization, version=version), True

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        for name in ("platform", "account", "region", "image_ref"):
            setattr(instance, name, (getattr(instance, name) or "").strip())

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An artifact already recorded for the same version is a no-op; one that differs is refused."""
        if import_validation_errors or instance.pk is None:
            return False
        changed = [name for name in ("account", "region") if getattr(instance, name) != getattr(original, name)]
        if changed:
            raise ValidationError(
                {name: f"{original} is recorded with {name} {getattr(original, name)!r}" for name in changed}
            )
        return True

    def save_instance(self, instance, is_create, row, **kwargs):
        """Write through the service (its errors become row errors; the dry run is rolled back by import-export)."""
        saved = image_artifact_add(
            actor=self.user,
            version=instance.version,
            platform=instance.platform,
            account=instance.account,
            region=instance.region,
            image_ref=instance.image_ref,
        )
        instance.pk = saved.pk
        instance.ref_key = saved.ref_key


HISTORY_COLUMNS = ("family", "environment", "version", "promoted_at", "grace_days")


class ChannelAssignmentResource(resources.ModelResource):
    """A channel's promotions, one per row: ``family, environment, version, promoted_at, grace_days``.

    Export: the user's channel history. Import: each row is a past promotion written by
    ``channel_promotion_import`` (oldest first per channel, not in the future, audited); any bad row rolls back all.
    """

    family = fields.Field(attribute="channel__family__slug", column_name="family", readonly=True)
    environment = fields.Field(attribute="channel__environment__slug", column_name="environment", readonly=True)
    version = fields.Field(attribute="to_version__version", column_name="version", readonly=True)
    promoted_at = fields.Field(attribute="assigned_at", column_name="promoted_at", readonly=True)
    grace_days = fields.Field(column_name="grace_days", readonly=True)

    class Meta:
        model = ChannelAssignment
        fields = HISTORY_COLUMNS
        import_order = HISTORY_COLUMNS
        export_order = HISTORY_COLUMNS
        import_id_fields = ()
        use_transactions = True
        clean_model_instances = False

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_queryset(self):
        return (
            ChannelAssignment.objects.restrict(self.user, "view")
            .select_related("channel__family", "channel__environment", "to_version")
            .order_by("channel__family__slug", "channel__environment__slug", "assigned_at", "id")
        )

    def dehydrate_promoted_at(self, assignment) -> str:
        return assignment.assigned_at.isoformat()

    def dehydrate_grace_days(self, assignment) -> int:
        return (assignment.grace_until - assignment.assigned_at).days

    def import_data(self, dataset, **kwargs):
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, **kwargs)

    def get_or_init_instance(self, instance_loader, row):
        return ChannelAssignment(), True

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return False

    def _family(self, slug: str) -> ImageFamily:
        candidates = list(
            ImageFamily.objects.restrict(self.user, "change").filter(slug=slug).order_by("organization__slug")[:2]
        )
        if not candidates:
            raise ValidationError({"family": f"no image family {slug!r} that you may change"})
        if len(candidates) > 1:
            raise ValidationError({"family": f"{slug} exists in several of your organisations"})
        return candidates[0]

    def save_instance(self, instance, is_create, row, **kwargs):
        """Write through the service; its refusals become the row's errors."""
        from apps.tenancy.models import Environment

        from .services import channel_promotion_import

        text = {key: str(row.get(key) or "").strip() for key in HISTORY_COLUMNS}
        family = self._family(text["family"])
        environment = Environment.objects.filter(organization=family.organization, slug=text["environment"]).first()
        if environment is None:
            raise ValidationError({"environment": f"no environment {text['environment']!r} in {family.organization}"})
        grace = None
        if text["grace_days"]:
            if not text["grace_days"].isdigit():
                raise ValidationError({"grace_days": "grace_days must be a whole number of days from 0 to 365"})
            grace = int(text["grace_days"])
        saved = channel_promotion_import(
            actor=self.user,
            family=family,
            environment=environment,
            version=text["version"],
            promoted_at=text["promoted_at"],
            grace_days=grace,
        )
        instance.pk = saved.pk
