"""Choices of the tenancy app."""

from django.db import models


class RoleChoices(models.TextChoices):
    """Membership roles, lowest to highest; what each may do is the table in ``roles.py``."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ENGINEER = "engineer", "Engineer"
    ADMIN = "admin", "Admin"


class EnvironmentTierChoices(models.TextChoices):
    DEV = "dev", "Development"
    STAGING = "staging", "Staging"
    PROD = "prod", "Production"


class SignaturePolicyChoices(models.TextChoices):
    """What the deploy gate does with a missing or failed signature in an environment."""

    WARN = "warn", "Warn"
    ENFORCE = "enforce", "Enforce"


class SiteKindChoices(models.TextChoices):
    CLOUD_REGION = "cloud_region", "Cloud region"
    DATACENTER = "datacenter", "Datacenter"


class PlatformChoices(models.TextChoices):
    AWS = "aws", "AWS"
    AZURE = "azure", "Azure"
    GCP = "gcp", "GCP"
    VSPHERE = "vsphere", "vSphere"


class EndpointClassChoices(models.TextChoices):
    """API endpoint classes that carry their own rate limits (docs/configuration.md, ADR 015)."""

    READS = "reads", "Reads"
    WRITES = "writes", "Writes"
    UPLOADS = "uploads", "Uploads"
    GATE = "gate", "Gate checks"
