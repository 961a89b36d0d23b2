"""Choices of the drift app."""

from django.db import models


class DriftStatusChoices(models.TextChoices):
    """Exactly one holds for each running asset (DESIGN.md, drift semantics)."""

    COMPLIANT = "compliant", "Compliant"
    OUTDATED = "outdated", "Outdated"
    UNMANAGED = "unmanaged", "Unmanaged"
    STALE = "stale", "Stale"


class RagChoices(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class SnapshotTriggerChoices(models.TextChoices):
    SCAN = "scan", "After a scan"
    PROMOTION = "promotion", "After a promotion or rollback"
    REVOCATION = "revocation", "After a revocation"
    DAILY = "daily", "Daily schedule"
    MANUAL = "manual", "Manual"
    DEMO = "demo", "Synthetic demo history"


# Machines not running their image right now are outside the running fleet (a DESIGN.md false-positive trap).
NOT_RUNNING_STATES = ("stopped", "deallocated", "suspended", "terminated", "stopping")
