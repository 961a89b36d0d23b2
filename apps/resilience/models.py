"""Disaster-recovery drills: definitions (validated documents), runs, their steps and health-check results.

Runs, steps and check results are history (DESIGN.md invariant 8): steps and results are append-only rows; a run
row moves only forward through its lifecycle (queued → running → passed/failed/error/abandoned) and is never edited
once finished (``drill_run_finish`` refuses to). At most one run per definition is active, enforced by a partial
unique index rather than a check in Python.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.models import AppendOnlyModel, TenantModel
from apps.tenancy.querysets import TenantQuerySet

from .choices import (
    ACTIVE_RUN_STATUSES,
    DrillRunStatusChoices,
    DrillRunTriggerChoices,
    DrillStepKindChoices,
    DrillStepStatusChoices,
)


class DrillDefinition(TenantModel):
    """One declared drill: the validated ``contracts/drill.schema.json`` document and the columns read from it."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="drills")
    project = models.ForeignKey("tenancy.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.SlugField(max_length=63)
    description = models.TextField(blank=True)
    family = models.ForeignKey("images.ImageFamily", on_delete=models.PROTECT, related_name="+")
    environment = models.ForeignKey("tenancy.Environment", on_delete=models.PROTECT, related_name="+")
    connector = models.ForeignKey("inventory.Connector", on_delete=models.PROTECT, related_name="+")
    platform = models.CharField(max_length=16)
    region = models.CharField(max_length=100, help_text="AWS region, or vSphere datacenter/cluster.")
    document = models.JSONField(help_text="The validated drill definition (contracts/drill.schema.json).")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the document's canonical JSON.")
    rto_objective_seconds = models.PositiveIntegerField()
    rpo_objective_seconds = models.PositiveIntegerField()
    cron = models.CharField(max_length=100, blank=True, help_text="Five-field cron (UTC); empty: on demand only.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    permission_scope = "drills"
    project_path = "project"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="drilldefinition_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def schedule_name(self) -> str:
        return f"resilience-drill-{self.pk}"


class DrillRunQuerySet(TenantQuerySet):
    """Runs are history: never deleted in bulk."""

    def delete(self):
        raise TypeError("DrillRun is append-only")

    def active(self) -> DrillRunQuerySet:
        return self.filter(status__in=ACTIVE_RUN_STATUSES)


class DrillRun(TenantModel):
    """One execution of a drill: golden version used, measured RTO/RPO against the objectives, outcome and reasons."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    definition = models.ForeignKey(DrillDefinition, on_delete=models.PROTECT, related_name="runs")
    definition_digest = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=DrillRunStatusChoices.choices, default=DrillRunStatusChoices.QUEUED, db_index=True
    )
    trigger = models.CharField(max_length=16, choices=DrillRunTriggerChoices.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, help_text="The simulated failure point.")
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(help_text="Past it, an active run is abandoned and the janitor cleans up.")
    golden_version = models.ForeignKey(
        "images.ImageVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    image_ref = models.CharField(max_length=500, blank=True, help_text="The regional artifact provisioned from.")
    recovery_point_at = models.DateTimeField(null=True, blank=True)
    recovery_point_ref = models.CharField(max_length=300, blank=True)
    rto_seconds = models.FloatField(null=True, blank=True)
    rpo_seconds = models.FloatField(null=True, blank=True)
    rto_objective_seconds = models.PositiveIntegerField()
    rpo_objective_seconds = models.PositiveIntegerField()
    rto_met = models.BooleanField(null=True)
    rpo_met = models.BooleanField(null=True)
    reasons = models.JSONField(default=list, blank=True)
    resources = models.JSONField(default=list, blank=True, help_text="Ids of what the run provisioned.")

    objects = DrillRunQuerySet.as_manager()

    permission_scope = "drills"
    project_path = "definition__project"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition"], condition=Q(status__in=ACTIVE_RUN_STATUSES), name="drillrun_one_active"
            )
        ]
        indexes = [models.Index(fields=["definition", "-created_at"], name="drillrun_history")]

    def __str__(self) -> str:
        return f"{self.definition.name} #{self.pk} ({self.status})"

    @property
    def tag_value(self) -> str:
        """The value of the ``qlrf:drill-run`` tag every provisioned resource carries."""
        return f"{self.organization_id}-{self.pk}"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class DrillStep(AppendOnlyModel):
    """One finished step of a run, with its timestamps; written once."""

    run = models.ForeignKey(DrillRun, on_delete=models.PROTECT, related_name="steps")
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=DrillStepKindChoices.choices)
    status = models.CharField(max_length=8, choices=DrillStepStatusChoices.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    permission_scope = "drills"
    project_path = "run__definition__project"

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [models.UniqueConstraint(fields=["run", "sequence"], name="drillstep_unique_sequence")]

    def __str__(self) -> str:
        return f"{self.run_id}.{self.sequence} {self.kind} {self.status}"


class HealthCheckResult(AppendOnlyModel):
    """One attempt of one health check against one provisioned resource; written once."""

    run = models.ForeignKey(DrillRun, on_delete=models.PROTECT, related_name="check_results")
    check_name = models.CharField(max_length=63)
    check_type = models.CharField(max_length=20)
    resource = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()

    permission_scope = "drills"
    project_path = "run__definition__project"

    class Meta:
        ordering = ["run", "checked_at", "id"]

    def __str__(self) -> str:
        return f"{self.check_name}@{self.resource} #{self.attempt}: {'green' if self.passed else 'red'}"
