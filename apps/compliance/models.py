"""Supply-chain evidence per image version: uploads, SBOM packages, scan summaries, signatures and gate decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.tenancy.models import AppendOnlyModel, TenantModel

from .choices import (
    ScanSummaryKindChoices,
    SignatureMethodChoices,
    UploadJobStatusChoices,
    UploadKindChoices,
    UploadStatusChoices,
    VerificationResultChoices,
)


class Upload(AppendOnlyModel):
    """One uploaded document, kept as received (content-addressed by SHA-256), accepted or rejected."""

    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="uploads")
    kind = models.CharField(max_length=16, choices=UploadKindChoices.choices)
    file = models.FileField(max_length=300, blank=True, help_text="uploads/<org>/<sha256>; empty when too large.")
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=UploadStatusChoices.choices)
    rejection_code = models.CharField(max_length=64, blank=True)
    rejection_detail = models.TextField(blank=True)
    rejection_path = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now, db_index=True)

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["version", "kind", "status"], name="upload_version_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename or self.sha256[:12]} ({self.status})"


class UploadJob(TenantModel):
    """A document too large to parse within a request, stored first and parsed by a task (ADR 019).

    The original is in storage (``file``) before the job row commits, so nothing is lost if the worker dies; the
    task is idempotent (the same accepted bytes are a no-op), so a retried job never imports twice. ``upload`` is the
    resulting row, accepted or rejected; ``error_*`` explain a failure in the document's terms.
    """

    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="upload_jobs")
    kind = models.CharField(max_length=16, help_text="sbom, scan (SARIF or InSpec, detected) or provenance.")
    status = models.CharField(
        max_length=16, choices=UploadJobStatusChoices.choices, default=UploadJobStatusChoices.QUEUED
    )
    stage = models.CharField(max_length=32, blank=True, help_text="What the running job is doing now.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done (0-100).")
    file = models.FileField(max_length=300, help_text="uploads/<org>/<sha256>: the original, stored before queueing.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    error_code = models.CharField(max_length=64, blank=True)
    error_detail = models.TextField(blank=True)
    error_path = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (UploadJobStatusChoices.SUCCEEDED, UploadJobStatusChoices.FAILED)


class SbomDocument(TenantModel):
    """The identity of an accepted SBOM; its packages are ``SbomPackage`` rows."""

    upload = models.OneToOneField(Upload, on_delete=models.PROTECT, related_name="sbom")
    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="sboms")
    format = models.CharField(max_length=16)
    spec_version = models.CharField(max_length=16)
    encoding = models.CharField(max_length=16)
    name = models.CharField(max_length=500, blank=True)
    package_count = models.PositiveIntegerField()
    findings_count = models.PositiveIntegerField(default=0, help_text="Validation findings (deviations tolerated).")
    findings = models.JSONField(default=list, blank=True, help_text="The first 1,000: path, rule, message.")

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.format} {self.spec_version} {self.name}"


class SbomPackage(TenantModel):
    """One package entry of an SBOM, exactly as listed; ``version`` is denormalised for search."""

    sbom = models.ForeignKey(SbomDocument, on_delete=models.CASCADE, related_name="packages")
    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=500)
    package_version = models.CharField(max_length=200, blank=True)
    purl = models.CharField(max_length=1000, blank=True)
    type = models.CharField(max_length=64, blank=True)
    license = models.TextField(blank=True)
    supplier = models.CharField(max_length=500, blank=True)

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["sbom", "name", "id"]
        indexes = [
            models.Index(fields=["organization", "name"], name="sbompackage_org_name"),
            models.Index(fields=["purl"], name="sbompackage_purl"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.package_version}" if self.package_version else self.name


class ScanSummary(TenantModel):
    """Counts of an accepted SARIF or InSpec report: SARIF results by level, InSpec controls by status."""

    upload = models.OneToOneField(Upload, on_delete=models.PROTECT, related_name="scan")
    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="scan_summaries")
    tool = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ScanSummaryKindChoices.choices)
    counts = models.JSONField(help_text="SARIF: results by effective level; InSpec: controls by status.")
    execution_failed = models.BooleanField(default=False)
    findings_count = models.PositiveIntegerField(default=0, help_text="Validation findings (deviations tolerated).")
    findings = models.JSONField(default=list, blank=True, help_text="The first 1,000: path, rule, message.")

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "scan summaries"

    def __str__(self) -> str:
        return f"{self.kind} {self.tool}"


class ProvenanceDocument(TenantModel):
    """An accepted SLSA provenance statement and the build level it claims (see docs/compliance.md)."""

    upload = models.OneToOneField(Upload, on_delete=models.PROTECT, related_name="provenance")
    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="provenances")
    predicate_type = models.CharField(max_length=200)
    builder_id = models.CharField(max_length=1000, blank=True)
    signed = models.BooleanField(default=False, help_text="Came in a DSSE envelope (signature not verified here).")
    slsa_level = models.PositiveSmallIntegerField()

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"SLSA L{self.slsa_level} ({self.builder_id or 'unknown builder'})"


class SigningKey(TenantModel):
    """An organisation's cosign public key (ECDSA P-256); ``key_id`` is the hex sha256 of its DER form."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="signing_keys")
    name = models.CharField(max_length=100)
    public_key_pem = models.TextField()
    key_id = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "images"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key_id"], name="signingkey_unique_key"),
            models.UniqueConstraint(fields=["organization", "name"], name="signingkey_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id[:12]})"


class SignatureVerification(AppendOnlyModel):
    """One signature check of a version: by an upload, or as answered by the deploy gate (``via_gate``)."""

    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="verifications")
    environment = models.ForeignKey(
        "tenancy.Environment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    method = models.CharField(max_length=16, choices=SignatureMethodChoices.choices)
    result = models.CharField(max_length=16, choices=VerificationResultChoices.choices)
    code = models.CharField(max_length=64, blank=True, help_text="Stable failure code; blank when verified.")
    identity = models.CharField(max_length=1024, blank=True)
    issuer = models.CharField(max_length=500, blank=True)
    key_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the manifest checked.")
    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    via_gate = models.BooleanField(default=False)
    enforced = models.BooleanField(default=False)
    warned = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    permission_scope = "uploads"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["version", "via_gate", "-created_at"], name="verification_latest")]

    def __str__(self) -> str:
        return f"{self.version_id}: {self.result} ({self.method})"


class GateDecision(AppendOnlyModel):
    """One answer of the deploy gate with every reason; append-only, so any past answer can be shown."""

    version = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="gate_decisions")
    environment = models.ForeignKey("tenancy.Environment", on_delete=models.PROTECT, related_name="+")
    allowed = models.BooleanField()
    verification = models.OneToOneField(
        SignatureVerification, on_delete=models.PROTECT, null=True, blank=True, related_name="gate_decision"
    )
    reasons = models.JSONField(default=list, help_text="[{code, severity deny|warn, detail}]")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    permission_scope = "images"
    project_path = "version__family__project"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version_id} → {self.environment_id}: {'allowed' if self.allowed else 'denied'}"
