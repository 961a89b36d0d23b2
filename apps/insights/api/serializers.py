"""Response shapes of the insights API (documented for the OpenAPI schema)."""

from rest_framework import serializers


class CauseSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=[
            "revoked_version_running",
            "region_without_copy",
            "template_pinned_old_image",
            "connector_scope_failing",
            "unregistered_image_spreading",
            "grace_ended",
        ]
    )
    key = serializers.ListField(child=serializers.CharField())
    machines = serializers.IntegerField()
    machine_ids = serializers.ListField(child=serializers.CharField())
    share_pct = serializers.FloatField()
    evidence = serializers.DictField(help_text="Ids, counts and dates the cause rests on.")
    remediation = serializers.CharField()
    confidence = serializers.FloatField()
    confidence_level = serializers.ChoiceField(choices=["high", "medium", "low"])
    confidence_terms = serializers.DictField(help_text="share, stale_share, scan_age_hours, unmanaged_share")


class ProvenanceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["deterministic", "model"])
    template_id = serializers.CharField()
    template_version = serializers.IntegerField()
    provider = serializers.CharField(allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    prompt_version = serializers.CharField(allow_blank=True)
    model_status = serializers.CharField(
        allow_blank=True, help_text="accepted, rejected, limit_reached, unavailable; empty when no provider is enabled"
    )
    rejection = serializers.CharField(allow_blank=True)
    tokens_in = serializers.IntegerField(allow_null=True)
    tokens_out = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)


class InsightSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.CharField()
    scope = serializers.DictField(help_text="environment, site, platform, as_of, snapshot_id")
    generation = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    narrative = serializers.CharField()
    deterministic_narrative = serializers.CharField()
    risk_summary = serializers.CharField(allow_blank=True)
    provenance = ProvenanceSerializer()
    totals = serializers.DictField()
    causes = CauseSerializer(many=True)


def insight_data(insight) -> dict:
    return {
        "id": insight.pk,
        "organization": insight.facts.get("organization", ""),
        "scope": insight.facts.get("scope", {}),
        "generation": insight.generation,
        "created_at": insight.created_at,
        "narrative": insight.narrative,
        "deterministic_narrative": insight.deterministic_narrative,
        "risk_summary": insight.risk_summary,
        "provenance": {
            "kind": insight.provenance,
            "template_id": insight.template_id,
            "template_version": insight.template_version,
            "provider": insight.provider,
            "model": insight.model,
            "prompt_version": insight.prompt_version,
            "model_status": insight.model_status,
            "rejection": insight.rejection,
            "tokens_in": insight.tokens_in,
            "tokens_out": insight.tokens_out,
            "latency_ms": insight.latency_ms,
        },
        "totals": insight.facts.get("totals", {}),
        "causes": insight.causes,
    }
