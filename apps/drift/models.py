"""Drift history: immutable snapshots of the fleet's drift, per platform × environment × site, and outdated assets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.tenancy.models import AppendOnlyModel, TenantModel
from apps.tenancy.querysets import AppendOnlyQuerySet

from .choices import SnapshotTriggerChoices


class DriftSnapshot(AppendOnlyModel):
    """The organisation's drift at one moment. Append-only: as-of answers read these, never recompute the past."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="drift_snapshots")
    taken_at = models.DateTimeField(default=timezone.now, db_index=True)
    trigger = models.CharField(max_length=16, choices=SnapshotTriggerChoices.choices)
    scan_run = models.ForeignKey(
        "inventory.ScanRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    permission_scope = "inventory"

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["organization", "taken_at"], name="driftsnapshot_asof")]

    def __str__(self) -> str:
        return f"{self.organization.slug} drift at {self.taken_at:%Y-%m-%d %H:%M}"


class DriftSnapshotRow(TenantModel):
    """One cell of a snapshot: counts for (environment, platform, site)."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    snapshot = models.ForeignKey(DriftSnapshot, on_delete=models.CASCADE, related_name="rows")
    environment = models.ForeignKey("tenancy.Environment", on_delete=models.SET_NULL, null=True, related_name="+")
    environment_slug = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=16)
    site = models.ForeignKey("tenancy.Site", on_delete=models.SET_NULL, null=True, related_name="+")
    site_slug = models.CharField(max_length=100, blank=True)
    total = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    outdated = models.PositiveIntegerField(default=0)
    unmanaged = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    not_running = models.PositiveIntegerField(default=0)
    oldest_drift_days = models.PositiveIntegerField(null=True)

    objects = AppendOnlyQuerySet.as_manager()
    permission_scope = "inventory"

    class Meta:
        ordering = ["snapshot", "environment_slug", "platform", "site_slug"]


class DriftSnapshotAsset(TenantModel):
    """An asset that was outdated when the snapshot was taken, with its version, baseline and drift age."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    snapshot = models.ForeignKey(DriftSnapshot, on_delete=models.CASCADE, related_name="outdated_assets")
    asset = models.ForeignKey("inventory.Asset", on_delete=models.SET_NULL, null=True, related_name="+")
    instance_id = models.CharField(max_length=300)
    name = models.CharField(max_length=300, blank=True)
    platform = models.CharField(max_length=16)
    environment_slug = models.CharField(max_length=100, blank=True)
    site_slug = models.CharField(max_length=100, blank=True)
    version = models.CharField(max_length=200)
    baseline = models.CharField(max_length=200, blank=True)
    outdated_since = models.DateTimeField()
    days_behind = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, help_text="behind | revoked")
    running = models.BooleanField(default=True, help_text="False: stopped or deallocated when the snapshot was taken.")

    objects = AppendOnlyQuerySet.as_manager()
    permission_scope = "inventory"

    class Meta:
        ordering = ["snapshot", "-days_behind", "instance_id"]


class DriftOutdatedBuild(TenantModel):
    """One live evaluation's outdated assets, frozen in page order: ``/drift/outdated`` pages read it (ADR 021).

    A cache, not history: made on the first read of a generation (qlrf/cache_generation.py), serving new first pages
    until ``expires_at`` (the live report's lifetime), kept while cursors page it (``last_used_at``), then deleted
    (410 ``cursor_expired``).
    """

    generation = models.BigIntegerField()
    at = models.DateTimeField(help_text="The instant the fleet was evaluated; days_behind counts from it.")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now, help_text="Last page read by a cursor (once a minute).")
    total = models.PositiveIntegerField(default=0)
    cells = models.JSONField(default=list, help_text="[[environment, platform, site, count], …] for filtered counts")

    permission_scope = "inventory"

    class Meta:
        indexes = [models.Index(fields=["organization", "generation", "expires_at"], name="driftoutdated_current")]


class DriftOutdatedEntry(TenantModel):
    """One outdated asset of a build, with its place in either order (``seq_desc``: most days behind first)."""

    build = models.ForeignKey(
        DriftOutdatedBuild, on_delete=models.CASCADE, related_name="entries", db_index=False
    )  # the two (build, seq) indexes lead with it
    asset_id = models.BigIntegerField()
    instance_id = models.CharField(max_length=300)
    name = models.CharField(max_length=300, blank=True)
    platform = models.CharField(max_length=16)
    environment_slug = models.CharField(max_length=100, blank=True)
    site_slug = models.CharField(max_length=100, blank=True)
    version = models.CharField(max_length=200)
    baseline = models.CharField(max_length=200, blank=True)
    outdated_since = models.DateTimeField()
    reason = models.CharField(max_length=16)
    running = models.BooleanField(default=True)
    seq_desc = models.PositiveIntegerField()
    seq_asc = models.PositiveIntegerField()

    permission_scope = "inventory"

    class Meta:
        indexes = [
            models.Index(fields=["build", "seq_desc"], name="driftoutdated_desc"),
            models.Index(fields=["build", "seq_asc"], name="driftoutdated_asc"),
        ]
