"""Choices of the compliance app."""

from django.db import models


class UploadKindChoices(models.TextChoices):
    SBOM = "sbom", "SBOM"
    SARIF = "sarif", "SARIF"
    INSPEC = "inspec", "InSpec"
    SIGNATURE = "signature", "Signature"
    PROVENANCE = "provenance", "Provenance"


class UploadStatusChoices(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ScanSummaryKindChoices(models.TextChoices):
    SARIF = "sarif", "SARIF"
    INSPEC = "inspec", "InSpec"


class SignatureMethodChoices(models.TextChoices):
    """How a version was signed; ``keypair`` is the contract's ``method: key`` (cosign key pairs)."""

    KEYLESS = "keyless", "Keyless (Sigstore)"
    KEYPAIR = "keypair", "Key pair (cosign)"


class VerificationResultChoices(models.TextChoices):
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"
    MISSING = "missing", "Missing"


class GateSeverityChoices(models.TextChoices):
    DENY = "deny", "Deny"
    WARN = "warn", "Warn"


class BadgeStatusChoices(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    WARN = "warn", "Warn"
    UNKNOWN = "unknown", "Unknown"


class UploadJobStatusChoices(models.TextChoices):
    """A large upload parsed outside the request (ADR 019): queued → running → succeeded | failed."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
