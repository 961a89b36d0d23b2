"""Reports (stored files), their schedules, evidence packs and the jobs that build large packs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.tenancy.models import AppendOnlyModel, TenantModel

from .choices import EvidencePackJobStatusChoices, ReportKindChoices


class ReportSchedule(TenantModel):
    """A report generated on a cron schedule and mailed to its recipients (a django-q2 Schedule named after it)."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="report_schedules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=ReportKindChoices.choices)
    filters = models.JSONField(default=dict, blank=True, help_text='Query parameters, e.g. {"env": "prod"}.')
    cron = models.CharField(max_length=100, help_text="Cron expression (UTC), e.g. '0 6 * * 1' for Mondays 06:00.")
    recipients = models.JSONField(default=list, blank=True, help_text="E-mail addresses the file is sent to.")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "reports"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="reportschedule_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.cron})"

    @property
    def schedule_name(self) -> str:
        return f"evidence-report-schedule-{self.pk}"


class Report(AppendOnlyModel):
    """One generated report file, kept in storage with its SHA-256. Append-only."""

    kind = models.CharField(max_length=32, choices=ReportKindChoices.choices)
    filters = models.JSONField(default=dict, blank=True)
    file = models.FileField(max_length=300, help_text="reports/<org>/<sha256>.<ext>")
    filename = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    schedule_name = models.CharField(max_length=100, blank=True, help_text="The schedule that made it, if any.")
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(default=timezone.now, db_index=True)

    permission_scope = "reports"

    class Meta:
        ordering = ["-generated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.generated_at:%Y-%m-%d %H:%M})"


class EvidencePack(AppendOnlyModel):
    """One audit evidence pack (a ZIP with ``index.json``), kept with its SHA-256. Append-only."""

    filters = models.JSONField(default=dict, help_text="environments, from, to — as given.")
    as_of = models.DateTimeField(help_text="The moment the pack describes: the end of its ``to`` day.")
    file = models.FileField(max_length=300, help_text="evidence/<org>/<sha256>.zip")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    member_count = models.PositiveIntegerField()
    empty = models.BooleanField(default=False, help_text="No evidence in scope: the ZIP holds index.json only.")
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(default=timezone.now, db_index=True)

    permission_scope = "reports"

    class Meta:
        ordering = ["-generated_at", "-id"]

    def __str__(self) -> str:
        return f"evidence pack {self.organization.slug} as of {self.as_of:%Y-%m-%d} ({self.sha256[:12]})"

    @property
    def filename(self) -> str:
        return f"evidence-{self.organization.slug}-{self.as_of:%Y%m%d}-{self.sha256[:12]}.zip"


class EvidencePackJob(TenantModel):
    """A large pack being built by a django-q2 task: its progress, then the pack or the error."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    filters = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=EvidencePackJobStatusChoices.choices, default=EvidencePackJobStatusChoices.QUEUED
    )
    progress_pct = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    pack = models.ForeignKey(EvidencePack, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    permission_scope = "reports"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"evidence pack job {self.pk} ({self.status}, {self.progress_pct}%)"
