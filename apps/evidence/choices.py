"""Choices of the evidence app: report kinds and formats, evidence pack job states."""

from django.db import models


class ReportKindChoices(models.TextChoices):
    """What a Report (stored or scheduled) contains; the suffix tells its format."""

    EXECUTIVE_PDF = "executive-pdf", "Executive summary (PDF)"
    DRIFT_PDF = "drift-pdf", "Detailed drift report (PDF)"
    DRIFT_CSV = "drift-csv", "Drift per environment/platform/site (CSV)"
    OUTDATED_CSV = "outdated-csv", "Outdated assets (CSV)"
    ASSETS_CSV = "assets-csv", "Assets (CSV)"
    IMAGE_VERSIONS_CSV = "image-versions-csv", "Image versions with badges (CSV)"
    SIGNATURES_CSV = "signatures-csv", "Signature verifications (CSV)"


class EvidencePackJobStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
