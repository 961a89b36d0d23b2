"""Admin of the compliance app: evidence and logs are read-only; signing keys are managed through their service."""

from django import forms
from django.contrib import admin

from apps.tenancy.admin_base import ReadOnlyTenantAdmin, TenantScopedAdmin

from .models import (
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
from .services import signing_key_create
from .signing import VerificationOutcome
from .signing.keypair import load_p256_key


class SigningKeyForm(forms.ModelForm):
    """Refuses an unusable PEM on the form, before the service derives the key id."""

    class Meta:
        model = SigningKey
        fields = ["organization", "name", "public_key_pem"]

    def clean_public_key_pem(self):
        value = self.cleaned_data["public_key_pem"]
        key = load_p256_key(value.encode())
        if isinstance(key, VerificationOutcome):
            raise forms.ValidationError(key.reason, code=key.code)
        return value


@admin.register(Upload)
class UploadAdmin(ReadOnlyTenantAdmin):
    """Uploads arrive through the API or ``rf sbom import``; the admin lists them, rejected ones included."""

    list_display = ["version", "kind", "status", "filename", "size", "rejection_code", "uploaded_by", "uploaded_at"]
    list_filter = ["organization", "kind", "status"]
    search_fields = ["sha256", "filename", "version__family__slug", "version__version"]


@admin.register(UploadJob)
class UploadJobAdmin(ReadOnlyTenantAdmin):
    """Large uploads parsed outside the request (ADR 019): status, progress and the failure in the document's terms."""

    list_display = ["version", "kind", "status", "stage", "progress", "size", "error_code", "attempts", "created_at"]
    list_filter = ["organization", "kind", "status"]
    search_fields = ["sha256", "filename", "version__family__slug", "version__version"]


@admin.register(SbomDocument)
class SbomDocumentAdmin(ReadOnlyTenantAdmin):
    list_display = ["version", "format", "spec_version", "encoding", "name", "package_count"]
    list_filter = ["organization", "format"]


@admin.register(SbomPackage)
class SbomPackageAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "package_version", "purl", "type", "license", "version"]
    list_filter = ["organization", "type"]
    search_fields = ["name", "purl"]
    list_select_related = ["version__family"]


@admin.register(ScanSummary)
class ScanSummaryAdmin(ReadOnlyTenantAdmin):
    list_display = ["version", "kind", "tool", "counts", "execution_failed"]
    list_filter = ["organization", "kind", "execution_failed"]


@admin.register(ProvenanceDocument)
class ProvenanceDocumentAdmin(ReadOnlyTenantAdmin):
    list_display = ["version", "predicate_type", "builder_id", "signed", "slsa_level"]
    list_filter = ["organization", "slsa_level"]


@admin.register(SigningKey)
class SigningKeyAdmin(TenantScopedAdmin):
    """Keys are added with their PEM; the key id is derived by the service and a key is never edited in place."""

    form = SigningKeyForm
    list_display = ["name", "organization", "key_id", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "key_id"]
    readonly_fields = ["key_id", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "organization", "public_key_pem"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        saved = signing_key_create(
            actor=request.user, organization=obj.organization, name=obj.name, public_key_pem=obj.public_key_pem
        )
        obj.pk, obj.key_id = saved.pk, saved.key_id
        return None


@admin.register(SignatureVerification)
class SignatureVerificationAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "version",
        "environment",
        "method",
        "result",
        "code",
        "via_gate",
        "enforced",
        "warned",
        "created_at",
    ]
    list_filter = ["organization", "method", "result", "via_gate"]
    search_fields = ["identity", "key_id", "version__family__slug"]


@admin.register(GateDecision)
class GateDecisionAdmin(ReadOnlyTenantAdmin):
    list_display = ["version", "environment", "allowed", "actor", "created_at"]
    list_filter = ["organization", "allowed"]
