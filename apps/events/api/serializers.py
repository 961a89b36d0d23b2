from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from qlrf.api.viewsets import TenantModelSerializer

from ..models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from ..services.webhooks import WebhookTargetRefused, target_check, webhook_secret_new


class OutboxEventSerializer(serializers.ModelSerializer):
    """A published event as its CloudEvents envelope (what subscribers received), plus where it went."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    event = serializers.SerializerMethodField()

    class Meta:
        model = OutboxEvent
        fields = ["id", "organization", "sequence", "type", "occurred_at", "published_at", "transport", "position",
                  "event"]  # fmt: skip

    def get_event(self, obj) -> dict:
        return obj.envelope()


@extend_schema_serializer(many=False)
class OutboxEventPageSerializer(serializers.Serializer):
    """One cursor page of events (the schema of ``GET /events``; the view builds the dict)."""

    results = OutboxEventSerializer(many=True)
    next_after = serializers.IntegerField(allow_null=True, help_text="the cursor for the next page (?after=)")


class WebhookEndpointSerializer(TenantModelSerializer):
    """The secret is returned once, in the response that creates the endpoint."""

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "organization", "name", "url", "event_types", "allow_private", "failure_count",
                  "disabled_at", "disabled_reason", "created_at"]  # fmt: skip
        read_only_fields = ["allow_private", "failure_count", "disabled_at", "disabled_reason", "created_at"]

    def validate_url(self, value: str) -> str:
        try:
            target_check(value, allow_private=bool(getattr(self.instance, "allow_private", False)), resolve=False)
        except WebhookTargetRefused as exc:
            raise serializers.ValidationError(str(exc), code="refused_target") from None
        return value

    def validate_event_types(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value):
            raise serializers.ValidationError("a list of event type patterns such as 'image.*'", code="invalid")
        return value

    def create(self, validated_data):
        validated_data["secret"] = webhook_secret_new()
        return super().create(validated_data)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("request") is not None and self.context["request"].method == "POST":
            data["secret"] = instance.secret
        return data


class WebhookDeliverySerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "organization", "endpoint", "event", "event_type", "replay", "status", "attempts",
                  "next_attempt_at", "last_status_code", "last_error", "response_excerpt", "created_at",
                  "delivered_at"]  # fmt: skip
