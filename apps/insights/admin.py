"""Admin of insights: the organisation's model provider (enable, kind, base URL, model, quota) and stored insights."""

from django.contrib import admin

from apps.tenancy.admin_base import ReadOnlyTenantAdmin, TenantScopedAdmin

from .models import Insight, InsightProvider
from .services import insight_provider_delete, insight_provider_save


@admin.register(InsightProvider)
class InsightProviderAdmin(TenantScopedAdmin):
    list_display = ["organization", "enabled", "kind", "model", "base_url", "requests_per_day", "tokens_per_day"]
    list_filter = ["enabled", "kind"]

    def save_model(self, request, obj, form, change):
        insight_provider_save(actor=request.user, provider=obj)

    def delete_model(self, request, obj):
        insight_provider_delete(actor=request.user, provider=obj)

    def delete_queryset(self, request, queryset):
        for provider in queryset:
            insight_provider_delete(actor=request.user, provider=provider)


@admin.register(Insight)
class InsightAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "scope_key", "generation", "provenance", "model_status", "created_at"]
    list_filter = ["provenance", "model_status"]
