"""Drill API: definitions (create from a document, list, run now) and runs with their steps and check results."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from qlrf.api.parsers import BoundedJSONParser
from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet

from ..choices import DrillRunTriggerChoices
from ..filtersets import DrillDefinitionFilterSet, DrillRunFilterSet
from ..models import DrillDefinition, DrillRun
from ..services import drill_definition_save, drill_run_request
from . import serializers as s


class DrillDefinitionViewSet(TenantModelViewSet):
    """Drill definitions. ``POST`` creates or replaces one (by ``metadata.name``) from its document."""

    queryset = DrillDefinition.objects.select_related("organization", "family", "environment", "connector")
    serializer_class = s.DrillDefinitionSerializer
    filterset_class = DrillDefinitionFilterSet
    parser_classes = [BoundedJSONParser]
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        request=s.DrillDefinitionWriteSerializer,
        responses={
            201: s.DrillDefinitionSerializer,
            422: OpenApiResponse(description="code `invalid_definition`: each fault with its JSON pointer"),
        },
    )
    def create(self, request, *args, **kwargs):
        body = s.DrillDefinitionWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        definition = drill_definition_save(
            actor=request.user, organization=body.validated_data["organization"], data=body.validated_data["definition"]
        )
        return Response(self.get_serializer(definition).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            202: s.DrillRunSerializer,
            409: OpenApiResponse(description="code `drill_in_progress`: a run of this drill is queued or running"),
        },
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run the drill now (Engineer and above); 409 while another run of it is active."""
        run = drill_run_request(actor=request.user, definition=self.get_object(), trigger=DrillRunTriggerChoices.API)
        run.refresh_from_db()
        return Response(s.DrillRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class DrillRunViewSet(TenantReadOnlyViewSet):
    """Drill runs, newest first; the detail carries the step timeline and every health-check attempt."""

    queryset = DrillRun.objects.select_related("definition", "golden_version__family")
    serializer_class = s.DrillRunSerializer
    filterset_class = DrillRunFilterSet

    def get_serializer_class(self):
        return s.DrillRunDetailSerializer if self.action == "retrieve" else s.DrillRunSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("steps", "check_results")
        return queryset
