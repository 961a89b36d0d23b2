from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet

from ..models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from . import serializers as s

PAGE_MAX = 1000


@extend_schema(
    parameters=[
        OpenApiParameter("after", OpenApiTypes.INT, description="only events after this sequence number"),
        OpenApiParameter("type", OpenApiTypes.STR, description="type pattern, e.g. image.*"),
        OpenApiParameter("organization", OpenApiTypes.STR, description="organization slug"),
    ]
)
class EventViewSet(TenantReadOnlyViewSet):
    """Published events for pipelines: ``GET /api/v1/events?after=<sequence>&type=image.*`` (cursor-paged).

    Only events the relay has published (and so numbered) are listed: a cursor never skips an event committed late.
    """

    queryset = OutboxEvent.objects.filter(sequence__isnull=False).select_related("organization")
    serializer_class = s.OutboxEventSerializer
    pagination_class = None

    def get_queryset(self):
        events = super().get_queryset().order_by("organization__slug", "sequence")
        if self.action != "list":
            return events
        params = self.request.query_params
        if params.get("organization"):
            events = events.filter(organization__slug=params["organization"])
        if params.get("after") not in (None, ""):
            try:
                after = int(params["after"])
            except ValueError:
                raise serializers.ValidationError({"after": "must be a sequence number"}, code="invalid") from None
            events = events.filter(sequence__gt=after)
        pattern = params.get("type", "")
        if "*" in pattern.rstrip("*") or pattern.endswith("**"):
            raise serializers.ValidationError({"type": "a type, or a prefix ending in *"}, code="invalid")
        if pattern:
            events = (
                events.filter(type__startswith=pattern[:-1]) if pattern.endswith("*") else events.filter(type=pattern)
            )
        return events

    @extend_schema(
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, description=f"at most {PAGE_MAX}, default 100")],
        responses=s.OutboxEventPageSerializer,
    )
    def list(self, request, *args, **kwargs):
        try:
            limit = min(int(request.query_params.get("limit", 100)), PAGE_MAX)
        except ValueError:
            raise serializers.ValidationError({"limit": "must be an integer"}, code="invalid") from None
        if limit < 1:
            raise serializers.ValidationError({"limit": "must be at least 1"}, code="invalid")
        rows = list(self.get_queryset()[:limit])
        data = self.get_serializer(rows, many=True).data
        return Response({"results": data, "next_after": rows[-1].sequence if rows else None})


class WebhookEndpointViewSet(TenantModelViewSet):
    queryset = WebhookEndpoint.objects.select_related("organization")
    serializer_class = s.WebhookEndpointSerializer


class WebhookDeliveryViewSet(TenantReadOnlyViewSet):
    queryset = WebhookDelivery.objects.select_related("organization", "event")
    serializer_class = s.WebhookDeliverySerializer
