"""Serializers of the inventory API. Connector configs never echo a sensitive parameter."""

import datetime

from django.utils import timezone
from rest_framework import serializers

from apps.tenancy.models import Project
from qlrf.api.viewsets import TenantModelSerializer, TenantRelatedField

from ..connectors.base import ConnectorError, get_connector_class
from ..models import Asset, Connector, DiscoveredImage, ScanRun
from ..services import connector_create, connector_update

MASK = "********"


class LastSeenField(serializers.DateTimeField):
    """An asset's effective last sighting: its row's, or its scope's later complete sighting (ADR 026).

    The sightings of the organisation are read once per serialization (a few rows), never a query per asset.
    """

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        from ..services.seen import Sightings

        cache = self.context.setdefault("_sightings", {}) if isinstance(self.context, dict) else {}
        sightings = cache.get(value.organization_id)
        if sightings is None:
            sightings = cache[value.organization_id] = Sightings([value.organization_id])
        return super().to_representation(sightings.last_seen(value))


class ConnectorSerializer(TenantModelSerializer):
    project = TenantRelatedField(slug_field="slug", queryset=Project.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Connector
        fields = [
            "id",
            "organization",
            "project",
            "platform",
            "name",
            "config",
            "credential_ref",
            "environment_rules",
            "schedule_minutes",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        try:
            sensitive = get_connector_class(instance.platform).sensitive_parameters
        except ConnectorError:
            sensitive = ()
        data["config"] = {k: (MASK if k in sensitive else v) for k, v in (data.get("config") or {}).items()}
        return data

    def create(self, validated_data):
        return connector_create(actor=self._actor(), **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("organization", None)
        if "platform" in validated_data and validated_data["platform"] != instance.platform:
            raise serializers.ValidationError(
                {"platform": "the platform of a connector cannot change"}, code="read_only"
            )
        validated_data.pop("platform", None)
        return connector_update(actor=self._actor(), connector=instance, **validated_data)


class ScanRunSerializer(serializers.ModelSerializer):
    connector = serializers.StringRelatedField()
    failed_scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    suspect_scopes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Scopes whose removals the guard withheld; confirm with POST …/confirm-removal.",
    )
    progress_pct = serializers.IntegerField(read_only=True)

    class Meta:
        model = ScanRun
        fields = [
            "id",
            "connector",
            "status",
            "trigger",
            "queued_at",
            "started_at",
            "finished_at",
            "scopes",
            "discovered",
            "new",
            "updated",
            "unchanged",
            "removed",
            "error",
            "failed_scopes",
            "suspect_scopes",
            "progress_pct",
        ]


class AssetSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    image_version = serializers.StringRelatedField()
    drift_status = serializers.ChoiceField(
        choices=["current", "outdated", "unmanaged", "stale", "removed"],
        read_only=True,
        help_text="Now, by the drift rules: current (compliant), outdated, unmanaged, stale, or removed.",
    )
    baseline = serializers.CharField(
        read_only=True, allow_null=True, help_text="family@version its environment's channel points to now."
    )
    last_seen = LastSeenField(help_text="When a scan last saw it (a complete scan of its scope, or its row's write).")
    outdated_since = serializers.SerializerMethodField(help_text="When it became outdated (null unless outdated).")
    days_behind = serializers.SerializerMethodField(help_text="Whole days since it became outdated (null unless so).")

    class Meta:
        model = Asset
        fields = [
            "id",
            "platform",
            "account",
            "region",
            "zone",
            "site",
            "environment",
            "instance_id",
            "name",
            "state",
            "image_ref",
            "reported_version",
            "image_version",
            "group_ref",
            "tags",
            "facts",
            "resolution_reason",
            "first_seen",
            "last_seen",
            "removed_at",
            "drift_status",
            "baseline",
            "outdated_since",
            "days_behind",
        ]

    def _since(self, obj):
        return getattr(obj, "outdated_since", None) if getattr(obj, "drift_status", None) == "outdated" else None

    def get_outdated_since(self, obj) -> datetime.datetime | None:
        since = self._since(obj)
        return serializers.DateTimeField().to_representation(since) if since else None

    def get_days_behind(self, obj) -> int | None:
        since = self._since(obj)
        return max(0, (self.context.get("drift_at", timezone.now()) - since).days) if since else None


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class AssetGraphSerializer(serializers.Serializer):
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())
    image_version = serializers.CharField(allow_null=True)


class DiscoveredImageSerializer(serializers.ModelSerializer):
    connector = serializers.StringRelatedField()
    matched_version = serializers.SerializerMethodField()

    class Meta:
        model = DiscoveredImage
        fields = [
            "id",
            "connector",
            "platform",
            "account",
            "region",
            "image_ref",
            "name",
            "family",
            "version",
            "state",
            "image_created_at",
            "deprecated_at",
            "owner",
            "public",
            "flagged",
            "replication",
            "source_ref",
            "tags",
            "artifact",
            "matched_version",
            "match_note",
            "first_seen",
            "last_seen",
            "removed_at",
        ]
        read_only_fields = fields

    def get_matched_version(self, obj) -> str | None:
        artifact = obj.artifact
        return f"{artifact.version.family.slug}@{artifact.version.version}" if artifact else None


class DiscoveredImageRegisterSerializer(serializers.Serializer):
    family = serializers.CharField(required=False, allow_blank=True, max_length=100)
    version = serializers.CharField(required=False, allow_blank=True, max_length=64)
