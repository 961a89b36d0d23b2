"""Inventory: connectors, their scan runs, and the normalised assets with their graph edges."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.models import TenantModel

from .choices import ACTIVE_SCAN_STATUSES, ConnectorPlatformChoices, ScanStatusChoices, ScanTriggerChoices


class Connector(TenantModel):
    """Where and how to discover a platform's images and machines. Holds a credential *reference*, never a secret."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="connectors")
    project = models.ForeignKey("tenancy.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    platform = models.CharField(max_length=16, choices=ConnectorPlatformChoices.choices)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, help_text="Validated against the connector's JSON Schema.")
    credential_ref = models.CharField(
        max_length=300, blank=True, help_text="env:NAME, file:/path or vault:path#key — empty for ambient credentials."
    )
    environment_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='How an asset\'s environment is found: {"tag": "Environment", "values": {"production": "prod"}, '
        '"default": "dev"}.',
    )
    schedule_minutes = models.PositiveIntegerField(
        default=360,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
        help_text="Scan interval in minutes.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    permission_scope = "connectors"
    project_path = "project"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="connector_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform})"

    @property
    def schedule_name(self) -> str:
        return f"inventory-scan-connector-{self.pk}"


class ScanRun(TenantModel):
    """One scan of one connector: status, per-scope progress and errors, and what changed."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="scan_runs")
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="scan_runs")
    status = models.CharField(max_length=16, choices=ScanStatusChoices.choices, default=ScanStatusChoices.QUEUED)
    trigger = models.CharField(max_length=16, choices=ScanTriggerChoices.choices, default=ScanTriggerChoices.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(
        default=dict, blank=True, help_text="scope key → {status, discovered, error} as the scan progresses."
    )
    discovered = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    image_scopes = models.JSONField(
        default=dict,
        blank=True,
        help_text="scope key → {status, discovered, removed, error} of the scope's image listing (ADR 025).",
    )

    permission_scope = "connectors"
    project_path = "connector__project"

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector"], condition=Q(status__in=ACTIVE_SCAN_STATUSES), name="one_active_scan_per_connector"
            )
        ]
        indexes = [models.Index(fields=["connector", "status", "-finished_at"], name="scanrun_latest")]

    def __str__(self) -> str:
        return f"{self.connector.name} scan {self.pk} ({self.status})"

    @property
    def failed_scopes(self) -> list[str]:
        return sorted(key for key, scope in self.scopes.items() if scope.get("status") == "failed")

    @property
    def suspect_scopes(self) -> list[str]:
        """Scopes whose removals the guard withheld, awaiting an engineer's confirmation."""
        return sorted(key for key, scope in self.scopes.items() if scope.get("status") == "suspect")

    @property
    def progress_pct(self) -> int:
        """Share of scopes finished (succeeded or failed)."""
        if not self.scopes:
            return 0 if self.status in ACTIVE_SCAN_STATUSES else 100
        done = sum(1 for scope in self.scopes.values() if scope.get("status") in ("succeeded", "failed", "suspect"))
        return round(100 * done / len(self.scopes))


class ScanScope(TenantModel):
    """One scope of one scan run: the unit a worker claims, applies in one transaction and reports (fan-out).

    ``status`` moves pending → running (claimed, ``lease_until`` set, ``attempts`` + 1) → succeeded / suspect / failed
    in the same transaction that applied the scope's sync. A running scope whose lease expired and whose row is not
    locked by a live transaction lost its worker: the sweeper puts it back to pending (or fails it after
    ``QLRF_SCAN_SCOPE_MAX_ATTEMPTS``). ``attempts`` is the fencing token: only the claim that is still current applies.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="scope_rows")
    key = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that holds or held it.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    discovered = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True, help_text="error, withheld, live — as shown on the run.")

    permission_scope = "connectors"
    project_path = "run__connector__project"

    class Meta:
        ordering = ["run", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="scanscope_unique_key")]
        indexes = [models.Index(fields=["status", "lease_until"], name="scanscope_sweep")]

    def __str__(self) -> str:
        return f"scan {self.run_id} scope {self.key} ({self.status})"


class Asset(TenantModel):
    """A machine normalised across platforms. Removal is soft (``removed_at``); history stays."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="assets")
    connector = models.ForeignKey(Connector, on_delete=models.SET_NULL, null=True, blank=True, related_name="assets")
    platform = models.CharField(max_length=16)
    account = models.CharField(max_length=200)
    region = models.CharField(max_length=100, blank=True)
    zone = models.CharField(max_length=100, blank=True)
    site = models.ForeignKey("tenancy.Site", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets")
    environment = models.ForeignKey(
        "tenancy.Environment", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    instance_id = models.CharField(max_length=300)
    name = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=32, blank=True)
    image_ref = models.CharField(max_length=500, blank=True)
    ref_key = models.CharField(max_length=500, blank=True, help_text="image_ref as the platform compares it.")
    reported_version = models.CharField(max_length=64, blank=True, help_text="The version the platform states.")
    image_artifact = models.ForeignKey(
        "images.ImageArtifact", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    image_version = models.ForeignKey(
        "images.ImageVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        help_text="Resolved from the artifact match; empty = unmanaged.",
    )
    group_ref = models.CharField(max_length=500, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    facts = models.JSONField(
        default=dict, blank=True, help_text="What the connector learned beyond the common fields (raw status, family…)."
    )
    resolution_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the image is not (or not fully) resolved, as the connector saw it."
    )
    scope_key = models.CharField(max_length=300, blank=True, help_text="The connector scope that reports it.")
    fingerprint = models.CharField(max_length=64)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(
        db_index=True,
        help_text="When a scan last wrote the row; a later complete scan of its scope may have seen it since, without "
        "writing it (its ScopeSighting): read the effective value through services.seen.",
    )
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_scan = models.ForeignKey(
        ScanRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The scan that last wrote the row (the scan that last saw it: services.seen).",
    )

    permission_scope = "inventory"

    class Meta:
        ordering = ["platform", "account", "instance_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "account", "instance_id"], name="asset_unique_instance"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "removed_at", "environment"], name="asset_fleet"),
            models.Index(fields=["connector", "scope_key", "last_seen"], name="asset_scope"),
            # a drift cell's first outdated machines of one version, by instance id (drift.engine.first_outdated)
            models.Index(
                fields=["organization", "environment", "platform", "site", "image_version", "instance_id"],
                name="asset_cell_version",
            ),
            models.Index(fields=["organization", "platform", "ref_key"], name="asset_ref"),
        ]

    def __str__(self) -> str:
        return self.name or self.instance_id


class ScopeSighting(TenantModel):
    """The latest complete sighting of one connector scope: a scan whose scope ``succeeded`` at ``seen_at``.

    A scope that succeeded saw every one of its live assets (the others it removed), so a live asset of the scope was
    last seen at least at ``seen_at`` even though its row was not written (ADR 026: an unchanged machine costs a read).
    The effective last sighting of an asset is ``max(asset.last_seen, sighting.seen_at)`` while it is live
    (``services.seen``). One row per (connector, scope), moved forward once per scope and scan.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=300)
    seen_at = models.DateTimeField()
    scan = models.ForeignKey(ScanRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    permission_scope = "connectors"
    project_path = "connector__project"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "scope_key"], name="scopesighting_unique_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.connector_id}:{self.scope_key} seen {self.seen_at}"


class AssetEdge(TenantModel):
    """One edge of the asset graph: instance → group → template → image artifact."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="edges")
    source_kind = models.CharField(max_length=16)
    source_ref = models.CharField(max_length=500)
    target_kind = models.CharField(max_length=16)
    target_ref = models.CharField(max_length=500)
    label = models.CharField(max_length=32, blank=True)

    permission_scope = "inventory"

    class Meta:
        ordering = ["asset", "id"]
        indexes = [models.Index(fields=["organization", "target_kind", "target_ref"], name="assetedge_target")]

    def __str__(self) -> str:
        return f"{self.source_kind}:{self.source_ref} -{self.label}-> {self.target_kind}:{self.target_ref}"


class AssetPresence(TenantModel):
    """One interval during which scans saw the asset: a reappearing asset opens a new one, never reopens the last.

    Append-only in spirit: rows are inserted, and the open interval (``seen_until`` null) is closed exactly once.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="presences")
    seen_from = models.DateTimeField()
    seen_until = models.DateTimeField(null=True, blank=True, help_text="When a complete scan no longer saw it.")

    permission_scope = "inventory"

    class Meta:
        ordering = ["asset", "seen_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(seen_until__isnull=True), name="assetpresence_one_open_interval"
            )
        ]
        indexes = [models.Index(fields=["organization", "seen_from", "seen_until"], name="assetpresence_at")]

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.seen_from:%Y-%m-%d %H:%M} → {self.seen_until or '…'}"


class AssetImageChange(TenantModel):
    """The image an asset runs from ``at`` on (ref as reported and the version it resolved to then). Never updated."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="image_changes")
    at = models.DateTimeField()
    image_ref = models.CharField(max_length=500, blank=True)
    reported_version = models.CharField(max_length=64, blank=True)
    image_version = models.ForeignKey(
        "images.ImageVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    permission_scope = "inventory"

    class Meta:
        ordering = ["asset", "at", "id"]
        indexes = [models.Index(fields=["asset", "at"], name="assetimagechange_at")]

    def __str__(self) -> str:
        return f"{self.asset_id}@{self.at:%Y-%m-%d %H:%M}: {self.image_ref}"


class DiscoveredImage(TenantModel):
    """An image a connector found in one of its scopes (AMI, gallery image version, GCP image, template, library item).

    Kept per connector and scope, upserted set-based by each scan, soft-removed when a complete listing of its scope no
    longer has it. ``artifact`` is the registry artifact it is (set by an artifact rule or a one-action registration);
    empty means unmatched. ``state`` is what compliance reads: ``deprecated`` for an AWS AMI past its DeprecationTime,
    ``flagged`` for an Azure version reported for a policy violation, whatever the raw state says.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="images")
    platform = models.CharField(max_length=16)
    account = models.CharField(max_length=200)
    region = models.CharField(max_length=100, blank=True, help_text="Canonical region/location/datacenter name.")
    scope_key = models.CharField(max_length=300, help_text="The connector scope that lists it.")
    image_ref = models.CharField(max_length=500)
    ref_key = models.CharField(max_length=500, help_text="image_ref as the platform compares it.")
    name = models.CharField(max_length=300, blank=True)
    family = models.CharField(max_length=200, blank=True, help_text="The platform's family/definition name.")
    version = models.CharField(max_length=64, blank=True, help_text="From tags/name/definition; empty if unknown.")
    state = models.CharField(max_length=32, blank=True)
    image_created_at = models.DateTimeField(null=True, blank=True, help_text="When the platform created the image.")
    deprecated_at = models.DateTimeField(
        null=True, blank=True, help_text="AWS DeprecationTime, GCP deprecation time (past or scheduled)."
    )
    owner = models.CharField(max_length=200, blank=True, help_text="Owner account id or alias (amazon, self…).")
    public = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False, help_text="Reported for a policy violation (Azure safetyProfile).")
    replication = models.JSONField(
        default=dict, blank=True, help_text="Region → {replica_count, state, progress} (Azure gallery versions)."
    )
    source_ref = models.CharField(max_length=500, blank=True, help_text="The image it was copied from (AWS).")
    tags = models.JSONField(default=dict, blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="What the connector learned beyond the fields above.")
    artifact = models.ForeignKey(
        "images.ImageArtifact", on_delete=models.SET_NULL, null=True, blank=True, related_name="discovered"
    )
    match_note = models.CharField(max_length=300, blank=True, help_text="How it was matched, or why it was not.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_scan = models.ForeignKey(ScanRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    permission_scope = "inventory"
    project_path = "connector__project"

    class Meta:
        ordering = ["connector", "platform", "region", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "scope_key", "ref_key"], name="discoveredimage_unique_ref")
        ]
        indexes = [
            models.Index(fields=["organization", "platform", "ref_key"], name="discoveredimage_ref"),
            models.Index(fields=["organization", "artifact", "removed_at"], name="discoveredimage_match"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.name or self.image_ref}"

    @property
    def matched(self) -> bool:
        return self.artifact_id is not None
