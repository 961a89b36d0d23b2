from django.contrib import admin

from apps.tenancy.admin_base import ReadOnlyTenantAdmin

from .models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyTenantAdmin):
    list_display = ["occurred_at", "organization", "type", "published_at"]
    list_filter = ["organization", "type"]
