"""Admin of the evidence app: schedules through their services; reports, packs and jobs are read-only history."""

from django import forms
from django.contrib import admin

from apps.tenancy.admin_base import ReadOnlyTenantAdmin, TenantScopedAdmin

from .models import EvidencePack, EvidencePackJob, Report, ReportSchedule
from .services import report_schedule_create, report_schedule_delete, report_schedule_update
from .services.schedules import FIELDS


class ReportScheduleForm(forms.ModelForm):
    class Meta:
        model = ReportSchedule
        fields = ["organization", *FIELDS]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(TenantScopedAdmin):
    """Schedules are managed by whoever may generate reports (the ``reports`` scope has only view and add)."""

    form = ReportScheduleForm
    list_display = ["name", "organization", "kind", "cron", "enabled"]
    list_filter = ["organization", "kind", "enabled"]

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "add") if obj is None else self._allowed_on(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def _allowed_on(self, request, obj) -> bool:
        return request.user.is_staff and ReportSchedule.objects.restrict(request.user, "add").filter(pk=obj.pk).exists()

    def get_readonly_fields(self, request, obj=None):
        return ["organization"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in FIELDS}
        if change:
            report_schedule_update(actor=request.user, schedule=obj, **data)
        else:
            obj.pk = report_schedule_create(
                actor=request.user, organization=form.cleaned_data["organization"], **data
            ).pk

    def delete_model(self, request, obj):
        report_schedule_delete(actor=request.user, schedule=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            report_schedule_delete(actor=request.user, schedule=obj)


@admin.register(Report)
class ReportAdmin(ReadOnlyTenantAdmin):
    list_display = ["filename", "organization", "kind", "size", "sha256", "schedule_name", "generated_at"]
    list_filter = ["organization", "kind"]


@admin.register(EvidencePack)
class EvidencePackAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "as_of", "member_count", "size", "sha256", "empty", "generated_by", "generated_at"]
    list_filter = ["organization", "empty"]


@admin.register(EvidencePackJob)
class EvidencePackJobAdmin(ReadOnlyTenantAdmin):
    list_display = ["pk", "organization", "status", "progress_pct", "error_code", "pack", "created_at", "finished_at"]
    list_filter = ["organization", "status"]
