"""Drift API: the report (live or as of a date), the outdated list (paged, sortable), the trend from snapshots."""

from __future__ import annotations

import datetime
from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenancy.models import Organization
from qlrf.api.exceptions import error_response
from qlrf.api.pagination import StandardPagination

from ..reports import outdated_asset
from ..selectors import (
    DriftFilters,
    DriftQueryError,
    drift_outdated_list,
    drift_report_data,
    drift_trend,
)
from . import serializers as s

COMMON = [
    OpenApiParameter("organization", str, description="Organisation slug (optional when you belong to one)."),
    OpenApiParameter("env", str, description="Environment slug."),
    OpenApiParameter("platform", str, enum=["aws", "azure", "gcp", "vsphere"]),
    OpenApiParameter("site", str, description="Site slug."),
    OpenApiParameter("as_of", str, description="YYYY-MM-DD or ISO 8601: answer from the snapshot of that moment."),
]


class DriftView(APIView):
    """Base: the organisation comes through the one door; bad parameters are 400 naming the parameter."""

    def organization(self, request) -> Organization:
        visible = Organization.objects.restrict(request.user, "view")
        slug = request.query_params.get("organization")
        if slug:
            found = visible.filter(slug=slug).first()
            if found is None:
                raise DriftQueryError("organization", f"unknown organization {slug!r}")
            return found
        organizations = list(visible[:2])
        if len(organizations) != 1:
            raise DriftQueryError("organization", "name the organization (you belong to several or none)")
        return organizations[0]

    def filters(self, request) -> DriftFilters:
        params = request.query_params
        return DriftFilters(
            environment=params.get("env") or None,
            platform=params.get("platform") or None,
            site=params.get("site") or None,
        )

    def handle_exception(self, exc):
        if isinstance(exc, DriftQueryError):
            status = 404 if exc.parameter == "organization" and "unknown" in exc.message else 400
            return error_response(
                "invalid_parameter" if status == 400 else "not_found",
                exc.message,
                status,
                [{"path": f"/query/{exc.parameter}", "code": "invalid", "detail": exc.message}],
            )
        return super().handle_exception(exc)


class DriftReportView(DriftView):
    @extend_schema(parameters=COMMON, responses=s.DriftReportSetSerializer, operation_id="drift_report")
    def get(self, request):
        """DriftReports per platform × environment × site, with roll-ups per environment, site and platform."""
        organization = self.organization(request)
        filters, as_of = self.filters(request), request.query_params.get("as_of")
        report = drift_report_data(organization, filters=filters, as_of=as_of)
        return Response({"organization": organization.slug, **report})


class DriftOutdatedView(DriftView):
    pagination_class = StandardPagination  # the schema documents the page envelope and ?limit=&offset=

    @extend_schema(
        parameters=[*COMMON, OpenApiParameter("ordering", str, enum=["-days_behind", "days_behind"])],
        responses=s.OutdatedAssetSerializer(many=True),
        operation_id="drift_outdated",
    )
    def get(self, request):
        """Every outdated machine, paged, most days behind first (``ordering=days_behind`` for the reverse)."""
        organization = self.organization(request)
        descending = request.query_params.get("ordering", "-days_behind") != "days_behind"
        source, rows, evaluation = drift_outdated_list(
            organization, filters=self.filters(request), as_of=request.query_params.get("as_of"), descending=descending
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        items = [asdict(outdated_asset(row, source, evaluation)) for row in page]
        return paginator.get_paginated_response(items)


class DriftTrendView(DriftView):
    @extend_schema(
        parameters=[
            OpenApiParameter("organization", str),
            OpenApiParameter("env", str),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("interval", str, enum=["day", "week"]),
        ],
        responses=s.TrendPointSerializer(many=True),
        operation_id="drift_trend",
    )
    def get(self, request):
        """Coverage and drift % per environment over time, from the immutable snapshots."""
        organization = self.organization(request)
        today = datetime.date.today()
        start = _date(request.query_params.get("from"), "from", today - datetime.timedelta(days=30))
        end = _date(request.query_params.get("to"), "to", today)
        points = drift_trend(
            organization,
            environment=request.query_params.get("env") or None,
            start=start,
            end=end,
            interval=request.query_params.get("interval", "day"),
        )
        return Response(points)


def _date(value: str | None, name: str, default: datetime.date) -> datetime.date:
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DriftQueryError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
