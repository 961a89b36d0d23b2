"""Admin of the image registry: tenant-scoped, read-only where history or contracts live, actions call services."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV

from apps.tenancy.admin_base import TenantScopedAdmin
from apps.tenancy.models import Environment

from .models import ArtifactRule, Channel, ChannelAssignment, ImageArtifact, ImageFamily, ImageVersion
from .resources import ChannelAssignmentResource, ImageArtifactResource
from .services import (
    channel_promote,
    channel_rollback,
    image_version_deprecate,
    image_version_publish,
    image_version_revoke,
)

ACTION_TEMPLATE = "images/admin/action_confirm.html"


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or "permission denied"


class TenantReadOnlyInline(admin.TabularInline):
    """An inline of history rows: restricted like its parent, never edited here."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return self.model.objects.restrict(request.user, "view")

    def get_readonly_fields(self, request, obj=None):
        return list(self.fields or [])

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ArtifactInline(TenantReadOnlyInline):
    model = ImageArtifact
    fields = ["platform", "account", "region", "image_ref", "created_at"]
    ordering = ["platform", "region", "image_ref"]


class VersionAssignmentInline(TenantReadOnlyInline):
    """Where this version was promoted: every channel assignment that made it golden."""

    model = ChannelAssignment
    fk_name = "to_version"
    fields = ["channel", "from_version", "assigned_at", "assigned_by", "grace_until", "is_rollback"]
    verbose_name = "channel assignment"
    verbose_name_plural = "channel assignment history"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("channel__family", "channel__environment", "from_version__family", "assigned_by")
        )


class ChannelAssignmentInline(TenantReadOnlyInline):
    model = ChannelAssignment
    fk_name = "channel"
    fields = ["from_version", "to_version", "assigned_at", "assigned_by", "grace_until", "is_rollback"]
    verbose_name_plural = "assignment history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_version__family", "to_version__family", "assigned_by")


class DetailReadOnlyMixin:
    """Objects are viewed, never edited by hand; the changelist's actions (permission "change") do the writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImageFamily)
class ImageFamilyAdmin(TenantScopedAdmin):
    list_display = ["slug", "name", "organization", "os_family", "version_scheme", "project"]
    list_filter = ["organization", "os_family", "version_scheme"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        # the scheme orders every stored version (ADR 011): it comes from the contract, never edited by hand
        return ["organization", "slug", "version_scheme"] if obj is not None else ["version_scheme"]


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    effective_at = forms.DateTimeField(
        required=False, help_text="Leave empty to revoke now; a future date schedules the revocation."
    )


class PromoteForm(forms.Form):
    environment = forms.ModelChoiceField(queryset=Environment.objects.none())
    grace_days = forms.IntegerField(
        required=False, min_value=0, max_value=365, help_text="Leave empty to keep the channel's grace period."
    )

    def __init__(self, *args, environments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments


@admin.register(ImageVersion)
class ImageVersionAdmin(DetailReadOnlyMixin, TenantScopedAdmin):
    """Versions are registered from the API/CLI; here they are read and moved through their lifecycle."""

    list_display = ["family", "version", "status", "released_at", "revoked_at", "organization"]
    list_filter = ["family", "status"]
    list_select_related = ["family", "organization"]
    search_fields = ["version", "family__slug"]
    fields = [
        "organization",
        "family",
        "version",
        "status",
        "parent",
        "released_at",
        "deprecated_at",
        "revoked_at",
        "revocation_reason",
        "revoked_via",
        "contract_digest",
        "contract_document",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [ArtifactInline, VersionAssignmentInline]
    actions = ["publish_selected", "deprecate_selected", "revoke_selected", "promote_selected"]

    def _apply(self, request, queryset, service, verb: str, **kwargs) -> None:
        done = 0
        for version in queryset.select_related("family"):
            try:
                service(actor=request.user, version=version, **kwargs)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{version}: {_error_text(exc)}", level=messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} version{'s' if done != 1 else ''}.", level=messages.SUCCESS)

    def _confirm(self, request, queryset, form, *, action: str, title: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    @admin.display(description="Contract")
    def contract_document(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.contract, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.action(description="Publish selected versions", permissions=["change"])
    def publish_selected(self, request, queryset):
        self._apply(request, queryset, image_version_publish, "Published")

    @admin.action(description="Deprecate selected versions", permissions=["change"])
    def deprecate_selected(self, request, queryset):
        self._apply(request, queryset, image_version_deprecate, "Deprecated")

    @admin.action(description="Revoke selected versions…", permissions=["change"])
    def revoke_selected(self, request, queryset):
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._apply(request, queryset, image_version_revoke, "Revoked", **form.cleaned_data)
            return None
        return self._confirm(request, queryset, form, action="revoke_selected", title="Revoke image versions")

    @admin.action(description="Promote to environment…", permissions=["change"])
    def promote_selected(self, request, queryset):
        organizations = set(queryset.values_list("organization", flat=True))
        if len(organizations) != 1:
            self.message_user(request, "Select versions of one organisation to promote.", level=messages.ERROR)
            return None
        environments = Environment.objects.restrict(request.user, "view").filter(organization__in=organizations)
        form = PromoteForm(request.POST if "apply" in request.POST else None, environments=environments)
        if form.is_bound and form.is_valid():
            self._apply(request, queryset, channel_promote, "Promoted", **form.cleaned_data)
            return None
        return self._confirm(request, queryset, form, action="promote_selected", title="Promote to an environment")


@admin.register(Channel)
class ChannelAdmin(DetailReadOnlyMixin, TenantScopedAdmin):
    """Channels move only by promotion or rollback; their assignment history is shown read-only."""

    list_display = ["family", "environment", "version", "grace_days", "organization"]
    list_filter = ["family", "environment"]
    list_select_related = ["family", "environment", "version__family", "organization"]
    fields = ["organization", "family", "environment", "version", "grace_days"]
    readonly_fields = fields
    inlines = [ChannelAssignmentInline]
    actions = ["rollback_selected"]

    @admin.action(description="Roll back selected channels", permissions=["change"])
    def rollback_selected(self, request, queryset):
        for channel in queryset:
            try:
                assignment = channel_rollback(actor=request.user, channel=channel)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{channel}: {_error_text(exc)}", level=messages.ERROR)
            else:
                self.message_user(request, f"{channel} rolled back to {assignment.to_version}.", messages.SUCCESS)


@admin.register(ImageArtifact)
class ImageArtifactAdmin(ImportExportMixin, DetailReadOnlyMixin, TenantScopedAdmin):
    """Artifacts come from registration or a CSV import (written by ``image_artifact_add``); never edited here."""

    resource_classes = [ImageArtifactResource]
    formats = [CSV]
    list_display = ["image_ref", "platform", "region", "account", "version", "organization"]
    list_filter = ["platform", "organization"]
    list_select_related = ["version__family", "organization"]
    search_fields = ["image_ref", "version__version", "version__family__slug"]
    fields = ["organization", "version", "platform", "account", "region", "image_ref", "ref_key", "created_at"]
    readonly_fields = fields

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {**kwargs, "user": request.user}

    def has_import_permission(self, request):
        return self._allowed(request, "change")

    def has_export_permission(self, request):
        return self._allowed(request, "view")

    def get_valid_export_item_pks(self, request):
        return self.get_queryset(request).values_list("pk", flat=True)


@admin.register(ArtifactRule)
class ArtifactRuleAdmin(TenantScopedAdmin):
    """How scans attach discovered images to registered versions (ADR 025); "apply now" runs them at once."""

    list_display = ["name", "organization", "kind", "family", "platform", "enabled"]
    list_filter = ["organization", "kind", "platform", "enabled"]
    search_fields = ["name", "name_pattern"]
    actions = ["apply_now"]

    @admin.action(description="Apply the organisation's rules to its discovered images now")
    def apply_now(self, request, queryset):
        from .services import artifact_rules_apply

        for organization in {rule.organization for rule in queryset}:
            if not self._allowed(request, "change", queryset.filter(organization=organization).first()):
                self.message_user(request, f"{organization}: permission denied", level=messages.ERROR)
                continue
            outcome = artifact_rules_apply(organization=organization)
            self.message_user(
                request, f"{organization}: {outcome.attached} image(s) attached, {len(outcome.refused)} refused"
            )


@admin.register(ChannelAssignment)
class ChannelAssignmentAdmin(ImportExportMixin, DetailReadOnlyMixin, TenantScopedAdmin):
    """Every promotion and rollback; import a channel's past promotions from CSV (Engineer+, audited)."""

    resource_classes = [ChannelAssignmentResource]
    formats = [CSV]
    list_display = ["channel", "from_version", "to_version", "assigned_at", "grace_until", "is_rollback", "imported"]
    list_filter = ["organization", "imported", "is_rollback"]
    list_select_related = ["channel__family", "channel__environment", "from_version__family", "to_version__family"]
    fields = ["organization", "channel", "from_version", "to_version", "assigned_at", "assigned_by", "grace_until"]
    readonly_fields = fields

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {**kwargs, "user": request.user}

    def has_import_permission(self, request):
        return self._allowed(request, "change")

    def has_export_permission(self, request):
        return self._allowed(request, "view")

    def get_valid_export_item_pks(self, request):
        return self.get_queryset(request).values_list("pk", flat=True)
