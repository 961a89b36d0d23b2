"""Choices of the inventory app."""

from django.db import models


class ConnectorPlatformChoices(models.TextChoices):
    AWS = "aws", "AWS"
    AZURE = "azure", "Azure"
    GCP = "gcp", "GCP"
    VSPHERE = "vsphere", "vSphere"
    SYNTHETIC = "synthetic", "Synthetic (demo and benchmarks)"


class ScanStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class ScanTriggerChoices(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual (admin or portal)"
    API = "api", "API"
    CLI = "cli", "CLI"


ACTIVE_SCAN_STATUSES = (ScanStatusChoices.QUEUED, ScanStatusChoices.RUNNING)
