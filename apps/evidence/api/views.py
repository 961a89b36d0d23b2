"""Evidence API: CSV report exports, evidence packs (generate, list, download) and the jobs that build large ones."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.drift.selectors import DriftQueryError
from qlrf.api.exceptions import error_response
from qlrf.api.viewsets import TenantReadOnlyViewSet, default_organization

from ..downloads import csv_response, pack_download
from ..models import EvidencePack, EvidencePackJob
from ..reports.csv_exports import EXPORTS, export_build
from ..selectors import organization_for
from ..services import evidence_pack_request
from . import serializers as s

CSV_KINDS = sorted(EXPORTS)
CSV_PARAMETERS = [
    OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=CSV_KINDS),
    OpenApiParameter("organization", str, description="Organisation slug (optional when you belong to one)."),
    OpenApiParameter("env", str, description="drift, outdated: environment slug."),
    OpenApiParameter("platform", str, description="drift, outdated, assets: aws, azure, gcp or vsphere."),
    OpenApiParameter("site", str, description="drift, outdated, assets: site slug."),
    OpenApiParameter("as_of", str, description="drift, outdated: YYYY-MM-DD or ISO 8601 (from that snapshot)."),
    OpenApiParameter("by", str, enum=["cell", "environment", "platform", "site"], description="drift: grouping."),
    OpenApiParameter("ordering", str, enum=["-days_behind", "days_behind"], description="outdated: order."),
    OpenApiParameter("environment", str, description="assets, signatures: environment slug."),
    OpenApiParameter("family", str, description="assets, image-versions, signatures: family slug."),
    OpenApiParameter("status", str, description="image-versions: status (repeatable)."),
    OpenApiParameter("result", str, description="signatures: verified, failed or missing."),
]


class JSONErrorsNegotiation(DefaultContentNegotiation):
    """``?format=csv`` selects the CSV body, not a renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CsvReportView(APIView):
    """A report as CSV, streamed; the same query parameters as the portal lists and the list endpoints."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsNegotiation

    @extend_schema(
        parameters=CSV_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="a bad parameter (code invalid_parameter, path /query/<name>)"),
            404: OpenApiResponse(description="unknown organization or report kind"),
        },
        operation_id="reports_csv",
    )
    def get(self, request, kind: str):
        """Download report ``kind`` as CSV (drift, outdated, assets, image-versions, signatures)."""
        if kind not in EXPORTS:
            raise Http404
        slug = request.query_params.get("organization")
        organization = organization_for(request.user, slug)
        if organization is None and slug:
            detail = f"unknown organization {slug!r}"
            errors = [{"path": "/query/organization", "code": "not_found", "detail": detail}]
            return error_response("not_found", detail, status.HTTP_404_NOT_FOUND, errors)
        if organization is None:
            raise DriftQueryError("organization", "name the organization (you belong to several or none)")
        return csv_response(export_build(kind, organization, user=request.user, params=request.query_params))

    def handle_exception(self, exc):
        if isinstance(exc, DriftQueryError):
            return error_response(
                exc.code,
                exc.message,
                exc.status,
                [{"path": f"/query/{exc.parameter}", "code": exc.code, "detail": exc.message}],
            )
        return super().handle_exception(exc)


class CsvReportFormatView(CsvReportView):
    """The same export at ``/reports/<kind>?format=csv``."""

    @extend_schema(
        parameters=[*CSV_PARAMETERS, OpenApiParameter("format", str, enum=["csv"])],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        operation_id="reports_csv_format",
    )
    def get(self, request, kind: str):
        """Download report ``kind`` as CSV (``format=csv``)."""
        if request.query_params.get("format", "csv") != "csv":
            raise DriftQueryError("format", "only format=csv is available")
        return super().get(request, kind)


class EvidencePackViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Evidence packs: ``POST`` builds one (inline: 201 with the pack; large: 202 with a job), then download."""

    queryset = EvidencePack.objects.select_related("organization", "generated_by")
    serializer_class = s.EvidencePackSerializer

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")

    def get_serializer_class(self):
        return s.EvidencePackRequestSerializer if self.action == "create" else s.EvidencePackSerializer

    @extend_schema(
        request=s.EvidencePackRequestSerializer,
        responses={
            201: s.EvidencePackSerializer,
            202: s.EvidencePackJobSerializer,
            400: OpenApiResponse(description="bad scope: from after to, unknown environment, pack too large"),
        },
    )
    def create(self, request, *args, **kwargs):
        body = s.EvidencePackRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        organization = data.get("organization") or default_organization(body)
        pack, job = evidence_pack_request(
            actor=request.user,
            organization=organization,
            environments=data["environments"],
            start=data["start"],
            end=data["end"],
        )
        if job is not None:
            return Response(s.EvidencePackJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        return Response(s.EvidencePackSerializer(pack).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The pack's ZIP, byte for byte as stored (``Digest`` header: its SHA-256)."""
        return pack_download(self.get_object())


class EvidencePackJobViewSet(TenantReadOnlyViewSet):
    """Jobs building large evidence packs: status, progress, then the pack's id or the error."""

    queryset = EvidencePackJob.objects.select_related("organization", "requested_by")
    serializer_class = s.EvidencePackJobSerializer
