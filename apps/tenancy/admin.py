"""Admin of the tenancy app, on the tenant-scoped base classes."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from qlrf.api.throttling import forget_organization_rates

from .admin_base import ReadOnlyTenantAdmin, TenantScopedAdmin
from .models import ApiToken, AuditEvent, Environment, Membership, Organization, Project, RateLimitPolicy, Site
from .services import membership_add, membership_remove, membership_update, token_revoke


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "rag_red_below", "rag_amber_below", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request):
        return request.user.is_superuser


@admin.register(Project)
class ProjectAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "organization"]
    list_filter = ["organization"]
    search_fields = ["name", "slug"]


@admin.register(Environment)
class EnvironmentAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "organization", "tier", "signature_policy"]
    list_filter = ["organization", "tier", "signature_policy"]


@admin.register(Site)
class SiteAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "organization", "kind", "platform", "region"]
    list_filter = ["organization", "kind", "platform"]


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "organization", "project", "role"]
    list_filter = ["organization", "role"]
    autocomplete_fields = []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Only people who already belong to an organisation the admin manages; never every username there is.
            managed = Membership.objects.restrict(request.user, "add").values("organization")
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(api_token__isnull=True, memberships__organization__in=managed)
                .distinct()
                .order_by("username")
            )
            if request.user.is_superuser:
                kwargs["queryset"] = get_user_model().objects.filter(api_token__isnull=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _service_account(self, obj) -> bool:
        return obj is not None and ApiToken.objects.filter(service_user_id=obj.user_id).exists()

    def has_change_permission(self, request, obj=None):
        # A token's service account keeps the token's role; revoke the token instead (409 in the API).
        return not self._service_account(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._service_account(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            membership_update(actor=request.user, membership=obj, role=obj.role)
        else:
            saved = membership_add(
                actor=request.user, organization=obj.organization, user=obj.user, role=obj.role, project=obj.project
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        membership_remove(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if self._service_account(obj):
                self.message_user(request, f"{obj}: an API token's membership; revoke the token", messages.ERROR)
                continue
            membership_remove(actor=request.user, membership=obj)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyTenantAdmin):
    """Tokens are created from the CLI or the API (shown once); here they are listed and revoked."""

    list_display = ["name", "organization", "role", "key_prefix", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organization", "role"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            try:
                token_revoke(actor=request.user, token=token)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{token}: {exc}", level=messages.ERROR)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.model.objects.restrict(request.user, "delete").exists():
            actions.pop("revoke", None)
        return actions


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTenantAdmin):
    list_display = ["occurred_at", "organization", "actor_repr", "action", "object_repr", "source_ip"]
    list_filter = ["organization", "action"]
    search_fields = ["object_repr", "actor_repr", "request_id"]


@admin.register(RateLimitPolicy)
class RateLimitPolicyAdmin(TenantScopedAdmin):
    """Per-organisation API rate limits: platform operators (superusers) set them; tenant admins only read them."""

    list_display = ["organization", "endpoint_class", "organization_rate", "principal_rate"]
    list_filter = ["endpoint_class"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_organization_rates(obj.organization_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_organization_rates(obj.organization_id)
