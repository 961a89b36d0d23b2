"""Serializers of the compliance API."""

from rest_framework import serializers

from apps.tenancy.models import Environment
from qlrf.api.viewsets import OrganizationField, TenantModelSerializer, TenantRelatedField

from ..choices import BadgeStatusChoices, GateSeverityChoices
from ..models import (
    GateDecision,
    ProvenanceDocument,
    SbomDocument,
    SbomPackage,
    ScanSummary,
    SignatureVerification,
    SigningKey,
    Upload,
    UploadJob,
)
from ..services import signing_key_create


class ValidationFindingSerializer(serializers.Serializer):
    """A deviation the document was imported with (issue #14): where, which rule, what was read instead."""

    path = serializers.CharField(help_text="JSON pointer, or 'line N' / 'package N' for tag-value")
    rule = serializers.CharField(help_text="missing-download-location, unknown-license-id, null-tool-name")
    message = serializers.CharField()


class UploadJobSerializer(serializers.ModelSerializer):
    """A large upload being parsed outside the request (ADR 019); poll ``url`` until ``status`` is final."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.StringRelatedField()
    requested_by = serializers.StringRelatedField()
    url = serializers.HyperlinkedIdentityField(view_name="upload-job-detail")
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed")
    upload = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="the resulting upload (accepted, or rejected with its fault)"
    )

    class Meta:
        model = UploadJob
        fields = [
            "id",
            "url",
            "organization",
            "version",
            "kind",
            "status",
            "stage",
            "progress",
            "sha256",
            "size",
            "filename",
            "media_type",
            "upload",
            "error_code",
            "error_detail",
            "error_path",
            "attempts",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class UploadSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.StringRelatedField()
    uploaded_by = serializers.StringRelatedField()
    status = serializers.CharField(read_only=True, help_text="accepted or rejected")

    class Meta:
        model = Upload
        fields = [
            "id",
            "organization",
            "version",
            "kind",
            "status",
            "sha256",
            "size",
            "filename",
            "media_type",
            "rejection_code",
            "rejection_detail",
            "rejection_path",
            "uploaded_by",
            "uploaded_at",
        ]


class SbomDocumentSerializer(serializers.ModelSerializer):
    upload = UploadSerializer(read_only=True)

    findings = ValidationFindingSerializer(many=True, read_only=True, help_text="the first 1,000")

    class Meta:
        model = SbomDocument
        fields = [
            "id",
            "format",
            "spec_version",
            "encoding",
            "name",
            "package_count",
            "findings_count",
            "findings",
            "upload",
        ]


class ScanSummarySerializer(serializers.ModelSerializer):
    upload = UploadSerializer(read_only=True)

    findings = ValidationFindingSerializer(many=True, read_only=True, help_text="the first 1,000")

    class Meta:
        model = ScanSummary
        fields = ["id", "tool", "kind", "counts", "execution_failed", "findings_count", "findings", "upload"]


class ProvenanceDocumentSerializer(serializers.ModelSerializer):
    upload = UploadSerializer(read_only=True)

    class Meta:
        model = ProvenanceDocument
        fields = ["id", "predicate_type", "builder_id", "signed", "slsa_level", "upload"]


class SigningKeySerializer(TenantModelSerializer):
    """A cosign public key; the key id is derived from the PEM, and the PEM cannot change after creation."""

    key_id = serializers.CharField(read_only=True)

    class Meta:
        model = SigningKey
        fields = ["id", "organization", "name", "public_key_pem", "key_id", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        if self.instance is not None and "public_key_pem" in attrs:
            raise serializers.ValidationError(
                {"public_key_pem": "a key cannot be replaced; register a new key"}, code="immutable"
            )
        return super().validate(attrs)

    def create(self, validated_data):
        return signing_key_create(actor=self._actor(), **validated_data)


class SignatureVerificationSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.StringRelatedField()
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    actor = serializers.StringRelatedField()

    class Meta:
        model = SignatureVerification
        fields = [
            "id",
            "organization",
            "version",
            "environment",
            "method",
            "result",
            "code",
            "identity",
            "issuer",
            "key_id",
            "reason",
            "manifest_sha256",
            "via_gate",
            "enforced",
            "warned",
            "actor",
            "created_at",
        ]


class GateReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=GateSeverityChoices.choices)
    detail = serializers.CharField()


class GateDecisionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.StringRelatedField()
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    actor = serializers.StringRelatedField()
    reasons = GateReasonSerializer(many=True, read_only=True)

    class Meta:
        model = GateDecision
        fields = ["id", "organization", "version", "environment", "allowed", "reasons", "actor", "created_at"]


class SignatureInputSerializer(serializers.Serializer):
    """A Sigstore bundle (JSON object or text), or a cosign detached signature with the key's id or name."""

    bundle = serializers.JSONField(required=False, help_text="A Sigstore bundle: the JSON object, or its text.")
    signature = serializers.CharField(required=False, max_length=4096, help_text="Base64 DER ECDSA signature.")
    key = serializers.CharField(required=False, max_length=100, help_text="Signing key id (hex or sha256:hex) or name.")
    environment = TenantRelatedField(slug_field="slug", queryset=Environment.objects.all(), required=False)

    def validate(self, attrs):
        if not attrs.get("bundle") and not attrs.get("signature"):
            raise serializers.ValidationError(
                {"bundle": "give a bundle, or a signature and a key"}, code="missing_signature"
            )
        return attrs


class GateCheckSerializer(serializers.Serializer):
    organization = OrganizationField(required=False)
    image = serializers.CharField(max_length=200, help_text="family@version")
    environment = serializers.SlugField(max_length=100)


class GateResultSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    image = serializers.CharField()
    environment = serializers.CharField()
    signature = serializers.CharField(help_text="verified, failed or missing, as logged for this decision")
    decision = serializers.IntegerField()
    reasons = GateReasonSerializer(many=True)


class PackageSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.CharField(source="package_version")
    image = serializers.SerializerMethodField()
    image_id = serializers.IntegerField(source="version_id")

    class Meta:
        model = SbomPackage
        fields = ["id", "organization", "image", "image_id", "name", "version", "purl", "type", "license", "supplier"]

    def get_image(self, obj) -> str:
        return f"{obj.version.family.slug}@{obj.version.version}"


class PackageChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    before = serializers.ListField(child=serializers.CharField(allow_blank=True))
    after = serializers.ListField(child=serializers.CharField(allow_blank=True))


class SbomDiffSerializer(serializers.Serializer):
    base = serializers.CharField()
    against = serializers.CharField()
    added = PackageChangeSerializer(many=True)
    removed = PackageChangeSerializer(many=True)
    changed = PackageChangeSerializer(many=True)


class BadgeSerializer(serializers.Serializer):
    key = serializers.CharField()
    status = serializers.CharField(help_text=f"one of {', '.join(BadgeStatusChoices.values)}")
    label = serializers.CharField()
    tooltip = serializers.CharField()
    url = serializers.CharField(help_text="Public SVG URL (keyed), for a README.")
