"""Image registry API: families, versions (register, publish, deprecate, revoke, promote, artifacts), channels."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from qlrf.api.parsers import BoundedJSONParser, TextParser, YamlParser
from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet

from ..contracts import DEFAULT_MAX_BYTES as CONTRACT_MAX_BYTES
from ..filtersets import ArtifactRuleFilterSet, ChannelFilterSet, ImageFamilyFilterSet, ImageVersionFilterSet
from ..models import ArtifactRule, Channel, ImageFamily, ImageVersion
from ..selectors import channel_history
from ..services import (
    channel_history_import,
    channel_promote,
    channel_rollback,
    contract_check,
    image_artifact_add,
    image_version_deprecate,
    image_version_publish,
    image_version_register,
    image_version_revoke,
)
from . import serializers as s


class ImageFamilyViewSet(TenantModelViewSet):
    queryset = ImageFamily.objects.select_related("organization")
    serializer_class = s.ImageFamilySerializer
    filterset_class = ImageFamilyFilterSet


class ArtifactRuleViewSet(TenantModelViewSet):
    """Rules attaching discovered images to registered versions after each scan (Engineer+ write; ADR 025)."""

    queryset = ArtifactRule.objects.select_related("organization", "family")
    serializer_class = s.ArtifactRuleSerializer
    filterset_class = ArtifactRuleFilterSet


class ImageVersionViewSet(TenantModelViewSet):
    """Golden image versions. ``POST`` registers one from its contract (201, or 200 when it already exists)."""

    queryset = ImageVersion.objects.select_related("organization", "family", "parent").prefetch_related("artifacts")
    serializer_class = s.ImageVersionSerializer
    filterset_class = ImageVersionFilterSet
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.ImageVersionDetailSerializer
        if self.action == "create":
            return s.ImageVersionRegisterSerializer
        return s.ImageVersionSerializer

    def _detail(self, version, code=status.HTTP_200_OK):
        version = self.get_queryset().get(pk=version.pk)
        return Response(
            s.ImageVersionDetailSerializer(version, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        request=s.ImageVersionRegisterSerializer,
        responses={201: s.ImageVersionDetailSerializer, 200: s.ImageVersionDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = s.ImageVersionRegisterSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        version, created = image_version_register(actor=request.user, **serializer.validated_data)
        return self._detail(version, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses=s.ImageVersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._detail(image_version_publish(actor=request.user, version=self.get_object()))

    @extend_schema(request=None, responses=s.ImageVersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def deprecate(self, request, pk=None):
        return self._detail(image_version_deprecate(actor=request.user, version=self.get_object()))

    @extend_schema(
        request=s.RevokeSerializer,
        responses={
            200: s.ImageVersionSerializer(many=True),
            403: OpenApiResponse(
                description="code `descendants_out_of_reach`: descendants lie in projects the caller has no rights "
                "in (the detail says how many); nothing is revoked"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke now or at ``effective_at``; descendants inherit the revocation. Lists every version revoked."""
        body = s.RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revoked = image_version_revoke(actor=request.user, version=self.get_object(), **body.validated_data)
        return Response(s.ImageVersionSerializer(revoked, many=True).data)

    @extend_schema(request=s.PromoteSerializer, responses={201: s.ChannelAssignmentSerializer})
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        version = self.get_object()
        context = {**self.get_serializer_context(), "organization": version.organization}
        body = s.PromoteSerializer(data=request.data, context=context)
        body.is_valid(raise_exception=True)
        assignment = channel_promote(actor=request.user, version=version, **body.validated_data)
        return Response(s.ChannelAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ArtifactInputSerializer, responses={201: s.ImageArtifactSerializer})
    @action(detail=True, methods=["post"])
    def artifacts(self, request, pk=None):
        body = s.ArtifactInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        artifact = image_artifact_add(actor=request.user, version=self.get_object(), **body.validated_data)
        return Response(s.ImageArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)


class ChannelViewSet(TenantReadOnlyViewSet):
    queryset = Channel.objects.select_related("organization", "family", "environment", "version")
    serializer_class = s.ChannelSerializer
    filterset_class = ChannelFilterSet

    @extend_schema(responses=s.ChannelAssignmentSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every promotion and rollback of the channel, newest first."""
        return Response(s.ChannelAssignmentSerializer(channel_history(self.get_object()), many=True).data)

    @extend_schema(
        request=s.ChannelHistoryImportSerializer,
        responses={201: s.ChannelAssignmentSerializer(many=True), 422: OpenApiResponse(description="invalid history")},
    )
    @action(detail=False, methods=["post"], url_path="import-history")
    def import_history(self, request):
        """Import a channel's past promotions (Engineer+; audited): drift age is true from the first day."""
        body = s.ChannelHistoryImportSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        created = channel_history_import(actor=request.user, **body.validated_data)
        return Response(s.ChannelAssignmentSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: s.ChannelAssignmentSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        assignment = channel_rollback(actor=request.user, channel=self.get_object())
        return Response(s.ChannelAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class ContractValidateView(APIView):
    """Validate an image contract without registering anything: YAML body, or JSON ``{"contract": …}``."""

    parser_classes = [BoundedJSONParser, YamlParser, TextParser]
    document_max_bytes = CONTRACT_MAX_BYTES  # a YAML/text body is read up to this, never further (ADR 016)

    @extend_schema(
        request={"application/json": s.ContractValidateSerializer, "application/yaml": {"type": "string"}},
        responses={
            200: s.ContractValidationResultSerializer,
            422: OpenApiResponse(description="invalid contract"),
            413: OpenApiResponse(description="contract too large"),
        },
    )
    def post(self, request):
        data = request.data
        if isinstance(data, dict):
            body = s.ContractValidateSerializer(data=data)
            body.is_valid(raise_exception=True)
            data = body.validated_data["contract"]
        result = contract_check(data)
        return Response({"valid": True, "kind": result.kind, "digest": result.digest})
