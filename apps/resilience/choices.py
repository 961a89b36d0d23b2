"""Choices of the drill models."""

from django.db import models


class DrillRunStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    ABANDONED = "abandoned", "Abandoned"


ACTIVE_RUN_STATUSES = (DrillRunStatusChoices.QUEUED, DrillRunStatusChoices.RUNNING)


class DrillRunTriggerChoices(models.TextChoices):
    MANUAL = "manual", "Manual"
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"
    DEMO = "demo", "Demo"


class DrillStepKindChoices(models.TextChoices):
    RESOLVE = "resolve", "Resolve golden version and regional artifact"
    RECOVERY_POINT = "recovery_point", "Find the newest recovery point"
    PROVISION = "provision", "Provision the pilot light"
    WAIT_RUNNING = "wait_running", "Wait until running"
    HEALTH_CHECKS = "health_checks", "Run health checks"
    MEASURE = "measure", "Measure RTO and RPO"
    TEARDOWN = "teardown", "Tear down"
    JANITOR = "janitor", "Janitor"


class DrillStepStatusChoices(models.TextChoices):
    OK = "ok", "OK"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
