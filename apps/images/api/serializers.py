"""Serializers of the image registry API."""

from rest_framework import serializers

from apps.tenancy.models import Environment
from qlrf.api.viewsets import OrganizationField, TenantModelSerializer, TenantRelatedField, default_organization

from ..models import ArtifactRule, Channel, ChannelAssignment, ImageArtifact, ImageFamily, ImageVersion


class ImageFamilySerializer(TenantModelSerializer):
    class Meta:
        model = ImageFamily
        fields = ["id", "organization", "name", "slug", "os_family", "version_scheme", "description"]
        read_only_fields = ["version_scheme"]  # set by the family's contract at its first registration (ADR 011)


class ImageArtifactSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImageArtifact
        fields = ["id", "platform", "account", "region", "image_ref", "created_at"]


class ArtifactInputSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=["aws", "azure", "gcp", "vsphere"])
    image_ref = serializers.CharField(max_length=500)
    account = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class ImageVersionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    family = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parent = serializers.StringRelatedField()
    artifacts = ImageArtifactSerializer(many=True, read_only=True)

    class Meta:
        model = ImageVersion
        fields = [
            "id",
            "organization",
            "family",
            "version",
            "status",
            "contract_digest",
            "parent",
            "released_at",
            "deprecated_at",
            "revoked_at",
            "revocation_reason",
            "created_at",
            "artifacts",
        ]


class ImageVersionDetailSerializer(ImageVersionSerializer):
    class Meta(ImageVersionSerializer.Meta):
        fields = [*ImageVersionSerializer.Meta.fields, "contract"]


class ContractField(serializers.JSONField):
    """An image contract: YAML text or a JSON object — anything else is refused here, before the validator."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, (str, dict)):
            self.fail("invalid_contract_type")
        return value

    default_error_messages = {"invalid_contract_type": "give the contract as YAML text or a JSON object"}


class ImageVersionRegisterSerializer(serializers.Serializer):
    """POST /images: register a version from its contract (YAML text or a JSON object), idempotent."""

    organization = OrganizationField(required=False)
    contract = ContractField(help_text="The image contract: YAML text, or the document as a JSON object.")
    version = serializers.CharField(max_length=64)
    parent = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="'family@version' or a version of the same family."
    )
    artifacts = ArtifactInputSerializer(many=True, required=False, default=list)

    def validate(self, attrs):
        if attrs.get("organization") is None:
            attrs["organization"] = default_organization(self)
        return attrs


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    effective_at = serializers.DateTimeField(required=False, allow_null=True)


class VersionEnvironmentField(TenantRelatedField):
    """An environment of the version's organisation: slugs repeat across organisations, so a caller who sees several
    (a member of two, a superuser) names one environment, never an ambiguous set (which answered 500)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        organization = self.context.get("organization")
        return queryset if organization is None else queryset.filter(organization=organization)


class PromoteSerializer(serializers.Serializer):
    environment = VersionEnvironmentField(slug_field="slug", queryset=Environment.objects.all())
    grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False, allow_null=True)


class ChannelAssignmentSerializer(serializers.ModelSerializer):
    from_version = serializers.StringRelatedField()
    to_version = serializers.StringRelatedField()
    assigned_by = serializers.StringRelatedField()

    class Meta:
        model = ChannelAssignment
        fields = [
            "id",
            "from_version",
            "to_version",
            "assigned_at",
            "assigned_by",
            "grace_until",
            "is_rollback",
            "imported",
        ]


class PastPromotionSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=64)
    promoted_at = serializers.CharField(max_length=64, help_text="ISO 8601 with a time zone, in the past.")
    grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False, allow_null=True)


class ChannelHistoryImportSerializer(serializers.Serializer):
    """A channel's past promotions, oldest first; applied whole or not at all."""

    organization = OrganizationField(required=False)
    family = serializers.SlugField(max_length=100)
    environment = serializers.SlugField(max_length=100)
    promotions = PastPromotionSerializer(many=True, allow_empty=False, max_length=1000)

    def validate(self, attrs):
        if attrs.get("organization") is None:
            attrs["organization"] = default_organization(self)
        return attrs


class ChannelSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    family = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.StringRelatedField()

    class Meta:
        model = Channel
        fields = ["id", "organization", "family", "environment", "version", "grace_days"]


class ContractValidateSerializer(serializers.Serializer):
    contract = ContractField(help_text="YAML text or a JSON object.")


class ContractValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    kind = serializers.CharField()
    digest = serializers.CharField()


class ArtifactRuleSerializer(TenantModelSerializer):
    """An artifact rule; ``family`` by slug among the caller's families (empty: the family the image states)."""

    family = TenantRelatedField(slug_field="slug", queryset=ImageFamily.objects.all(), required=False, allow_null=True)

    class Meta:
        model = ArtifactRule
        fields = [
            "id",
            "organization",
            "name",
            "kind",
            "family",
            "platform",
            "family_tag",
            "version_tag",
            "name_pattern",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["created_at"]
