"""Inventory API: connectors (scan, test), scan runs, assets and their graph."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.tenancy.models import Organization
from qlrf.api.exceptions import error_response
from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet

from ..choices import ScanTriggerChoices
from ..connectors.base import ConnectorError
from ..filtersets import AssetApiFilterSet, ConnectorFilterSet, DiscoveredImageFilterSet, ScanRunFilterSet
from ..models import Asset, Connector, DiscoveredImage, ScanRun
from ..selectors import asset_graph
from ..services import ScanInProgress, connector_delete, connector_test, scan_removal_confirm, scan_request
from . import serializers as s


class ConnectorViewSet(TenantModelViewSet):
    queryset = Connector.objects.select_related("organization", "project")
    serializer_class = s.ConnectorSerializer
    filterset_class = ConnectorFilterSet

    def perform_destroy(self, instance):
        connector_delete(actor=self.request.user, connector=instance)

    @extend_schema(request=None, responses={202: s.ScanRunSerializer})
    @action(detail=True, methods=["post"])
    def scan(self, request, pk=None):
        """Queue a scan now (Operator and above); 409 while another scan of the connector is active."""
        try:
            run = scan_request(actor=request.user, connector=self.get_object(), trigger=ScanTriggerChoices.API)
        except ScanInProgress as exc:
            return error_response(exc.code, str(exc), status.HTTP_409_CONFLICT)
        return Response(s.ScanRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.ConnectionTestSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Check the connector's credentials and reachability now."""
        try:
            detail = connector_test(actor=request.user, connector=self.get_object())
        except ConnectorError as exc:
            return Response({"ok": False, "detail": str(exc)})
        return Response({"ok": True, "detail": detail})


class ScanRunViewSet(TenantReadOnlyViewSet):
    queryset = ScanRun.objects.select_related("connector")
    serializer_class = s.ScanRunSerializer
    filterset_class = ScanRunFilterSet

    @extend_schema(request=None, responses=s.ScanRunSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-removal")
    def confirm_removal(self, request, pk=None):
        """Apply the removals the guard withheld in this run (Engineer and above, audited); 400 if none is withheld."""
        run = scan_removal_confirm(actor=request.user, run=self.get_object())
        return Response(s.ScanRunSerializer(run).data)


class AssetViewSet(TenantReadOnlyViewSet):
    """Machines with their drift now: ``drift_status``, ``baseline``, ``days_behind`` (``?status=outdated``…)."""

    queryset = Asset.objects.select_related("site", "environment", "image_version__family")
    serializer_class = s.AssetSerializer
    filterset_class = AssetApiFilterSet

    def get_queryset(self):
        from apps.drift.assets import assets_with_drift

        organizations = Organization.objects.restrict(self.request.user, "view")
        return assets_with_drift(super().get_queryset(), organizations=organizations, at=self._drift_at())

    def _drift_at(self):
        if not hasattr(self, "_at"):
            self._at = timezone.now()
        return self._at

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "drift_at": self._drift_at()}

    @extend_schema(responses=s.AssetGraphSerializer)
    @action(detail=True, methods=["get"])
    def graph(self, request, pk=None):
        """The asset graph: instance → group (ASG/VMSS/MIG/folder) → template → image."""
        return Response(asset_graph(self.get_object()))


class DiscoveredImageViewSet(TenantReadOnlyViewSet):
    """The images the connectors list; ``register`` makes an unmatched one an artifact of a version in one call."""

    queryset = DiscoveredImage.objects.select_related("connector", "artifact__version__family")
    serializer_class = s.DiscoveredImageSerializer
    filterset_class = DiscoveredImageFilterSet

    @extend_schema(request=s.DiscoveredImageRegisterSerializer, responses={201: s.DiscoveredImageSerializer})
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        """Register the image as an artifact of ``family@version`` (default: what its tags/name state); Engineer+."""
        from apps.images.services import discovered_image_register

        body = s.DiscoveredImageRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        image = self.get_object()
        discovered_image_register(actor=request.user, image=image, **body.validated_data)
        image = self.get_queryset().get(pk=image.pk)
        return Response(s.DiscoveredImageSerializer(image).data, status=status.HTTP_201_CREATED)
