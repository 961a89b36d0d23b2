"""``TenantScopedAdmin``: the Django admin through the one door (querysets, FK choices, object permissions).

Model-level (global) permissions never decide what a staff user sees or may change here; object permissions on the
row's organisation do, exactly as in the API and the portal. Saves and deletes go through the tenancy services so the
audit trail records them.
"""

from __future__ import annotations

from django.contrib import admin

from .services import tenant_object_create, tenant_object_delete, tenant_object_update


class TenantScopedAdmin(admin.ModelAdmin):
    """Base admin for every tenant-owned model."""

    def get_queryset(self, request):
        return self.model.objects.restrict(request.user, "view")

    def get_list_filter(self, request):
        """Relation filters list only related objects present in the (restricted) changelist, never other tenants."""
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item and self.model._meta.get_field(item).is_relation:
                filters.append((item, admin.RelatedOnlyFieldListFilter))
            else:
                filters.append(item)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related.objects, "restrict"):
            kwargs["queryset"] = related.objects.restrict(request.user, "view")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _allowed(self, request, action: str, obj=None) -> bool:
        """Object permission on ``obj``'s organisation, or (for pages without an object) on any of the user's."""
        if not request.user.is_active or not request.user.is_staff:
            return False
        if obj is not None:
            return self.model.objects.restrict(request.user, action).filter(pk=obj.pk).exists()
        from .models import Organization
        from .roles import permission_for
        from .services import has_permission

        codename = permission_for(self.model.permission_scope, action)
        return any(has_permission(request.user, codename, org) for org in Organization.objects.restrict(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, "view", obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, "delete", obj)

    def has_add_permission(self, request):
        return self._allowed(request, "add")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            tenant_object_update(actor=request.user, instance=obj, data=data)
        else:
            fields = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields if not f.primary_key}
            saved = tenant_object_create(actor=request.user, model=type(obj), data=fields)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        tenant_object_delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            tenant_object_delete(actor=request.user, instance=obj)


class ReadOnlyTenantAdmin(TenantScopedAdmin):
    """History (audit events, logs, snapshots): visible to whom it concerns, never edited in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
