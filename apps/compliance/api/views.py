"""Compliance API: uploads (SBOM, scans, provenance, signatures), SBOM diff, package search, the gate, badges."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.images.models import ImageVersion
from apps.tenancy.models import Environment, Organization
from qlrf.api.parsers import DocumentTooLarge, PayloadTooLarge, RawDocumentParser
from qlrf.api.viewsets import TenantModelViewSet, TenantReadOnlyViewSet, default_organization
from qlrf.errors import field_error

from .. import selectors
from ..badges import BADGES, badge_key_valid, badge_ref, badge_url, render_svg
from ..filtersets import (
    GateDecisionFilterSet,
    SignatureVerificationFilterSet,
    SigningKeyFilterSet,
    UploadFilterSet,
    UploadJobFilterSet,
)
from ..models import GateDecision, SbomPackage, SignatureVerification, SigningKey, Upload, UploadJob
from ..services import SCAN, bundle_bytes, gate_check, signature_verify, upload_job_submit, upload_store_and_parse
from . import serializers as s

DOCUMENT_BODY = {
    "application/json": {"type": "object", "description": "The document as sent by the tool."},
    "application/octet-stream": {"type": "string", "format": "binary"},
    "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
}
UPLOAD_ERRORS = {
    202: OpenApiResponse(
        s.UploadJobSerializer,
        description="a document over QLRF_UPLOAD_SYNC_MAX_BYTES, or sent with `Prefer: respond-async`, is parsed by "
        "an upload job: poll the job's URL (also in `Location`) until its status is succeeded or failed",
    ),
    413: OpenApiResponse(description="document larger than QLRF_UPLOAD_MAX_BYTES (code too_large)"),
    422: OpenApiResponse(description="document refused; the rejected upload is kept for the audit trail"),
}


def _version(request, pk) -> ImageVersion:
    try:
        return selectors.image_version_get(request.user, pk)
    except (ImageVersion.DoesNotExist, ValueError):
        raise Http404 from None


def _document(request) -> tuple[bytes, str, str, int]:
    """(bytes, filename, media type, real size) of a raw body or a multipart ``file``.

    A body over the upload limit is not read further: its declared size goes to the upload service, which records
    the refusal for the audit trail and answers 413 ``too_large``.
    """
    limit = settings.QLRF_UPLOAD_MAX_BYTES
    try:
        data = request.data
    except (DocumentTooLarge, PayloadTooLarge):
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        return b"", "", request.content_type.split(";")[0], max(declared, limit + 1)
    if isinstance(data, bytes) and data:
        size = int(request.META.get("CONTENT_LENGTH") or len(data))
        return data, "", request.content_type.split(";")[0], max(size, len(data))
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is None:
        raise ValidationError({"file": "send the document as the request body or as a multipart 'file'"}, "required")
    return upload.read(limit + 1), upload.name or "", upload.content_type or "", upload.size


class _UploadView(APIView):
    parser_classes = [MultiPartParser, RawDocumentParser]  # both bounded by QLRF_UPLOAD_MAX_BYTES (ADR 016)
    accepts_documents = True  # a JSON body here is the document itself (qlrf.api.body_guard leaves it to the parser)
    rate_limit_class = "uploads"  # qlrf.api.throttling
    kind = ""

    def _store(self, request, pk):
        """(upload, status) when parsed here; (None, 202 response) when the document goes to an upload job."""
        version = _version(request, pk)
        data, filename, media_type, size = _document(request)
        if _parse_later(request, data, size):
            job = upload_job_submit(
                actor=request.user, version=version, kind=self.kind, data=data, filename=filename,
                media_type=media_type, size=size,
            )  # fmt: skip
            body = s.UploadJobSerializer(job, context={"request": request}).data
            return None, Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})
        upload, created = upload_store_and_parse(
            actor=request.user,
            version=version,
            kind=self.kind,
            data=data,
            filename=filename,
            media_type=media_type,
            size=size,
        )
        return upload, (status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _parse_later(request, data: bytes, size: int) -> bool:
    """Large (or ``Prefer: respond-async``) documents within the upload limit go to an upload job (ADR 019)."""
    if not data or size > settings.QLRF_UPLOAD_MAX_BYTES:
        return False  # refused at once (413) by the upload service, which records the refusal
    prefer = request.headers.get("Prefer", "")
    wants_async = any(token.strip().lower() == "respond-async" for token in prefer.split(","))
    return wants_async or size > settings.QLRF_UPLOAD_SYNC_MAX_BYTES


class ImageSbomView(_UploadView):
    """The SBOM of an image version: upload one (SPDX 2.x/3, CycloneDX JSON/XML), read it, or download it."""

    kind = "sbom"

    @extend_schema(
        parameters=[OpenApiParameter("download", OpenApiTypes.BOOL, description="1: the original bytes")],
        responses={200: s.SbomDocumentSerializer, 404: OpenApiResponse(description="no SBOM")},
    )
    def get(self, request, pk):
        sbom = selectors.sbom_latest(_version(request, pk))
        if sbom is None:
            raise Http404
        if request.query_params.get("download") in ("1", "true"):
            upload = sbom.upload
            response = FileResponse(upload.file.open("rb"), content_type=upload.media_type)
            response["Content-Disposition"] = f'attachment; filename="{upload.filename or upload.sha256}"'
            response["Digest"] = f"sha-256={upload.sha256}"
            return response
        return Response(s.SbomDocumentSerializer(sbom).data)

    @extend_schema(request=DOCUMENT_BODY, responses={201: s.SbomDocumentSerializer, **UPLOAD_ERRORS})
    def post(self, request, pk):
        upload, code = self._store(request, pk)
        if upload is None:
            return code
        return Response(s.SbomDocumentSerializer(upload.sbom).data, status=code)


class ImageScanView(_UploadView):
    """Upload a scan result: a SARIF 2.1.0 log or an InSpec JSON report (the format is detected)."""

    kind = SCAN

    @extend_schema(request=DOCUMENT_BODY, responses={201: s.ScanSummarySerializer, **UPLOAD_ERRORS})
    def post(self, request, pk):
        upload, code = self._store(request, pk)
        if upload is None:
            return code
        return Response(s.ScanSummarySerializer(upload.scan).data, status=code)


class ImageProvenanceView(_UploadView):
    """Upload SLSA provenance: an in-toto statement, a DSSE envelope or a Sigstore bundle holding one."""

    kind = "provenance"

    @extend_schema(request=DOCUMENT_BODY, responses={201: s.ProvenanceDocumentSerializer, **UPLOAD_ERRORS})
    def post(self, request, pk):
        upload, code = self._store(request, pk)
        if upload is None:
            return code
        return Response(s.ProvenanceDocumentSerializer(upload.provenance).data, status=code)


class ImageSignatureView(APIView):
    """Verify a signature of the version's manifest; the result (verified or failed) is logged and returned."""

    rate_limit_class = "uploads"  # qlrf.api.throttling

    @extend_schema(request=s.SignatureInputSerializer, responses={201: s.SignatureVerificationSerializer})
    def post(self, request, pk):
        version = _version(request, pk)
        body = s.SignatureInputSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        verification = signature_verify(
            actor=request.user,
            version=version,
            environment=data.get("environment"),
            bundle=bundle_bytes(data["bundle"]) if data.get("bundle") else None,
            signature=data.get("signature"),
            key=data.get("key"),
        )
        return Response(s.SignatureVerificationSerializer(verification).data, status=status.HTTP_201_CREATED)


class ImageManifestView(APIView):
    """The exact bytes a pipeline signs for this version (RFC 8785 JSON, see docs/signing.md)."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        manifest = selectors.version_manifest(_version(request, pk))
        return HttpResponse(manifest, content_type="application/json")


class ImageBadgesView(APIView):
    """The five badges of a version with their public SVG URLs."""

    @extend_schema(responses=s.BadgeSerializer(many=True))
    def get(self, request, pk):
        version = _version(request, pk)
        badges = selectors.version_badges(version)
        rows = [{**badge.as_dict(), "url": badge_url(version, badge.key)} for badge in badges]
        return Response(s.BadgeSerializer(rows, many=True).data)


class SbomDiffView(APIView):
    """Packages added, removed and changed from ``against``'s newest SBOM to this version's."""

    @extend_schema(
        parameters=[OpenApiParameter("against", OpenApiTypes.INT, required=True, description="the other version")],
        responses=s.SbomDiffSerializer,
    )
    def get(self, request, pk):
        version = _version(request, pk)
        against = request.query_params.get("against")
        if not against:
            raise ValidationError({"against": "give the id of the version to compare with"}, "required")
        other = _version(request, against)
        diff = selectors.sbom_diff(other, version)
        data = {"base": str(other), "against": str(version), **{k: [vars(c) for c in v] for k, v in diff.items()}}
        return Response(s.SbomDiffSerializer(data).data)


class PackageSearchView(generics.ListAPIView):
    """Which golden images contain a package: ``?name=openssl&version=3.0.7`` (newest SBOM of each version)."""

    serializer_class = s.PackageSerializer
    queryset = SbomPackage.objects.none()  # for the schema; rows come from the restricted selector

    @extend_schema(
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, required=True),
            OpenApiParameter("version", OpenApiTypes.STR),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        name = self.request.query_params.get("name", "").strip()
        if not name:
            raise ValidationError({"name": "give a package name"}, "required")
        return selectors.package_search(self.request.user, name, self.request.query_params.get("version") or None)


class GateCheckView(APIView):
    """May ``image`` (family@version) go to ``environment``? Every reason; both answers are logged."""

    rate_limit_class = "gate"  # qlrf.api.throttling

    @extend_schema(request=s.GateCheckSerializer, responses=s.GateResultSerializer)
    def post(self, request):
        body = s.GateCheckSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        organization = body.validated_data.get("organization") or default_organization(body)
        try:
            version = selectors.image_version_by_ref(
                body.validated_data["image"], organization=organization, user=request.user
            )
        except (ImageVersion.DoesNotExist, ValueError):
            detail = f"no image {body.validated_data['image']!r} in this organization"
            raise field_error("image", detail, "not_found") from None
        environment = Environment.objects.restrict(request.user, "view").filter(
            organization=organization, slug=body.validated_data["environment"]
        )
        if not environment.exists():
            raise field_error("environment", "no such environment in this organization", "not_found")
        decision = gate_check(actor=request.user, version=version, environment=environment.get())
        result = {
            "allowed": decision.allowed,
            "image": str(version),
            "environment": decision.environment.slug,
            "signature": decision.verification.result,
            "decision": decision.pk,
            "reasons": decision.reasons,
        }
        return Response(s.GateResultSerializer(result).data)


class SigningKeyViewSet(TenantModelViewSet):
    queryset = SigningKey.objects.select_related("organization")
    serializer_class = s.SigningKeySerializer
    filterset_class = SigningKeyFilterSet


class UploadJobViewSet(TenantReadOnlyViewSet):
    """Upload jobs (ADR 019): large documents parsed outside the request; poll one until it is final."""

    queryset = UploadJob.objects.select_related("organization", "version__family", "requested_by")
    serializer_class = s.UploadJobSerializer
    filterset_class = UploadJobFilterSet


class UploadViewSet(TenantReadOnlyViewSet):
    queryset = Upload.objects.select_related("organization", "version__family", "uploaded_by")
    serializer_class = s.UploadSerializer
    filterset_class = UploadFilterSet


class SignatureVerificationViewSet(TenantReadOnlyViewSet):
    queryset = SignatureVerification.objects.select_related("organization", "version__family", "environment", "actor")
    serializer_class = s.SignatureVerificationSerializer
    filterset_class = SignatureVerificationFilterSet


class GateDecisionViewSet(TenantReadOnlyViewSet):
    queryset = GateDecision.objects.select_related("organization", "version__family", "environment", "actor")
    serializer_class = s.GateDecisionSerializer
    filterset_class = GateDecisionFilterSet


def badge_svg(request, organization: str, family: str, version: str, badge: str):
    """Public SVG of one badge; without the right ``key`` every path is the same 404 (see ``badges``)."""
    ref = badge_ref(organization, family, version, badge)
    if badge not in BADGES or not badge_key_valid(ref, request.GET.get("key", "")):
        return HttpResponse("not found", status=404, content_type="text/plain")
    # The key proves the caller was given this badge's URL by a member: no user, so no ``restrict`` here.
    found = (
        ImageVersion.objects.select_related("family", "organization")
        .filter(organization__in=Organization.objects.filter(slug=organization), family__slug=family, version=version)
        .first()
    )
    if found is None:
        return HttpResponse("not found", status=404, content_type="text/plain")
    chosen = next(b for b in selectors.version_badges(found) if b.key == badge)
    response = HttpResponse(render_svg(chosen), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "no-cache, max-age=0"
    return response
