"""Admin of the inventory: connectors (scan now, test connection), scan runs and assets (read-only history)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from apps.tenancy.admin_base import ReadOnlyTenantAdmin, TenantScopedAdmin
from qlrf.errors import DocumentRejected

from .choices import ScanTriggerChoices
from .connectors.base import ConnectorError
from .models import Asset, AssetEdge, Connector, DiscoveredImage, ScanRun
from .services import (
    ScanInProgress,
    connector_config_check,
    connector_create,
    connector_delete,
    connector_test,
    connector_update,
    scan_removal_confirm,
    scan_request,
)
from .services.seen import with_last_seen

EDITABLE = ["project", "config", "credential_ref", "environment_rules", "schedule_minutes", "enabled"]


@admin.register(Connector)
class ConnectorAdmin(TenantScopedAdmin):
    list_display = ["name", "organization", "platform", "enabled", "schedule_minutes"]
    list_filter = ["organization", "platform", "enabled"]
    search_fields = ["name"]
    actions = ["scan_now", "test_connection"]

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class ConnectorForm(form_class):
            def clean(self):
                cleaned = super().clean()
                platform = cleaned.get("platform") or getattr(obj, "platform", None)
                try:
                    connector_config_check(platform, cleaned.get("config") or {})
                except DocumentRejected as exc:
                    raise ValidationError([f"{e['path']}: {e['detail']}" for e in exc.errors]) from None
                return cleaned

        return ConnectorForm

    def get_readonly_fields(self, request, obj=None):
        return ["organization", "platform"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            connector_update(actor=request.user, connector=obj, name=obj.name, **fields)
        else:
            saved = connector_create(
                actor=request.user, organization=obj.organization, platform=obj.platform, name=obj.name, **fields
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        connector_delete(actor=request.user, connector=obj)

    def delete_queryset(self, request, queryset):
        for connector in queryset:
            connector_delete(actor=request.user, connector=connector)

    @admin.action(description="Scan now")
    def scan_now(self, request, queryset):
        for connector in queryset:
            try:
                run = scan_request(actor=request.user, connector=connector, trigger=ScanTriggerChoices.MANUAL)
                self.message_user(request, f"{connector.name}: scan {run.pk} queued")
            except (ScanInProgress, PermissionDenied) as exc:
                self.message_user(request, f"{connector.name}: {exc}", level=messages.ERROR)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for connector in queryset:
            try:
                self.message_user(
                    request, f"{connector.name}: {connector_test(actor=request.user, connector=connector)}"
                )
            except (ConnectorError, PermissionDenied) as exc:
                self.message_user(request, f"{connector.name}: {exc}", level=messages.ERROR)


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "id",
        "connector",
        "status",
        "trigger",
        "queued_at",
        "finished_at",
        "discovered",
        "new",
        "updated",
        "unchanged",
        "removed",
        "suspect",
    ]
    list_filter = ["organization", "status", "trigger"]
    readonly_fields = [f.name for f in ScanRun._meta.fields]
    actions = ["confirm_removal"]

    @admin.display(description="Withheld removals")
    def suspect(self, obj):
        return ", ".join(obj.suspect_scopes)

    @admin.action(description="Confirm the removals the guard withheld")
    def confirm_removal(self, request, queryset):
        for run in queryset:
            try:
                run = scan_removal_confirm(actor=request.user, run=run)
                self.message_user(request, f"scan {run.pk}: removal confirmed, {run.removed} asset(s) removed in total")
            except (PermissionDenied, ValidationError) as exc:
                message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"scan {run.pk}: {message}", level=messages.ERROR)


class AssetEdgeInline(admin.TabularInline):
    model = AssetEdge
    fields = ["source_kind", "source_ref", "label", "target_kind", "target_ref"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "instance_id",
        "name",
        "organization",
        "platform",
        "account",
        "region",
        "environment",
        "state",
        "image_version",
        "seen_last",
        "removed_at",
        "resolution_reason",
    ]
    list_filter = ["organization", "platform", "environment", "site", "state"]
    search_fields = ["instance_id", "name", "image_ref"]
    list_select_related = ["organization", "environment", "image_version__family"]
    readonly_fields = ["seen_last", *(f.name for f in Asset._meta.fields)]
    inlines = [AssetEdgeInline]

    def get_queryset(self, request):
        return with_last_seen(super().get_queryset(request))

    @admin.display(description="last seen")
    def seen_last(self, obj):
        """The effective last sighting (ADR 026): the row's, or its scope's later complete scan."""
        return obj.seen_last


@admin.register(DiscoveredImage)
class DiscoveredImageAdmin(ReadOnlyTenantAdmin):
    """What the connectors found; unmatched images are registered in one action (their tags/name give the version)."""

    list_display = [
        "name",
        "platform",
        "account",
        "region",
        "state",
        "family",
        "version",
        "artifact",
        "match_note",
        "last_seen",
        "removed_at",
    ]
    list_filter = ["organization", "platform", "state", "connector", ("artifact", admin.EmptyFieldListFilter)]
    search_fields = ["name", "image_ref", "family", "version"]
    list_select_related = ["organization", "connector", "artifact__version__family"]
    readonly_fields = [f.name for f in DiscoveredImage._meta.fields]
    actions = ["register_selected"]

    @admin.action(description="Register as an artifact of the version its tags/name state")
    def register_selected(self, request, queryset):
        from apps.images.services import discovered_image_register

        for image in queryset:
            try:
                artifact = discovered_image_register(actor=request.user, image=image)
                self.message_user(request, f"{image}: registered as an artifact of {artifact.version}")
            except (PermissionDenied, ValidationError) as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{image}: {message}", level=messages.ERROR)
