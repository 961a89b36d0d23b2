"""Serializers of the drill API."""

from __future__ import annotations

import json

from rest_framework import serializers

from apps.images.api.serializers import ContractField
from qlrf.api.viewsets import OrganizationField, default_organization

from ..models import DrillDefinition, DrillRun, DrillStep, HealthCheckResult


class DrillDefinitionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    family = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    connector = serializers.SlugRelatedField(slug_field="name", read_only=True)
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = DrillDefinition
        fields = [
            "id", "organization", "name", "description", "family", "environment", "connector", "platform", "region",
            "rto_objective_seconds", "rpo_objective_seconds", "cron", "enabled", "digest", "document",
            "created_at", "updated_at", "last_run",
        ]  # fmt: skip
        read_only_fields = fields

    def get_last_run(self, definition) -> dict | None:
        run = definition.runs.order_by("-created_at", "-id").first()
        return DrillRunSerializer(run).data if run else None


class DrillDefinitionWriteSerializer(serializers.Serializer):
    """POST /drills: create or replace (by ``metadata.name``) a drill from its definition document."""

    organization = OrganizationField(required=False)
    definition = ContractField(help_text="The drill definition: YAML text, or the document as a JSON object.")

    def validate(self, attrs):
        if attrs.get("organization") is None:
            attrs["organization"] = default_organization(self)
        value = attrs["definition"]
        attrs["definition"] = value if isinstance(value, str) else json.dumps(value)
        return attrs


class DrillRunSerializer(serializers.ModelSerializer):
    drill = serializers.SlugRelatedField(source="definition", slug_field="name", read_only=True)
    golden_version = serializers.StringRelatedField()

    class Meta:
        model = DrillRun
        fields = [
            "id", "drill", "status", "trigger", "created_at", "started_at", "finished_at", "deadline_at",
            "golden_version", "image_ref", "recovery_point_at", "recovery_point_ref", "rto_seconds", "rpo_seconds",
            "rto_objective_seconds", "rpo_objective_seconds", "rto_met", "rpo_met", "reasons", "resources",
        ]  # fmt: skip
        read_only_fields = fields


class DrillStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = DrillStep
        fields = ["sequence", "kind", "status", "started_at", "finished_at", "detail", "data"]
        read_only_fields = fields


class HealthCheckResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthCheckResult
        fields = ["check_name", "check_type", "resource", "attempt", "passed", "detail", "checked_at", "duration_ms"]
        read_only_fields = fields


class DrillRunDetailSerializer(DrillRunSerializer):
    steps = DrillStepSerializer(many=True, read_only=True)
    checks = HealthCheckResultSerializer(source="check_results", many=True, read_only=True)

    class Meta(DrillRunSerializer.Meta):
        fields = [*DrillRunSerializer.Meta.fields, "steps", "checks"]
        read_only_fields = fields
