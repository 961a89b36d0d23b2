"""Insights API: the grounded explanation of a scope (organisation, environment, site, platform, cell; as of)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.drift.api.views import COMMON, DriftView
from qlrf.api.exceptions import error_response
from qlrf.api.schema import ErrorSerializer

from ..models import Insight
from ..providers import rephrase_for
from ..scope import insight_scope
from ..services import insight_get
from . import serializers as s

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="invalid_parameter, invalid_as_of, as_of_in_future"),
    404: OpenApiResponse(ErrorSerializer, description="not_found, no_snapshot_before"),
}


class InsightView(DriftView):
    """Parameters and organisation exactly as the drift report's (same stable 4xx codes)."""

    @extend_schema(
        parameters=COMMON,
        responses={200: s.InsightSerializer, **ERRORS},
        operation_id="insights_explain",
    )
    def get(self, request):
        """Ranked root causes of the scope's drift with their evidence, confidence and a grounded narrative."""
        organization = self.organization(request)
        params = request.query_params
        scope = insight_scope(
            organization,
            environment=params.get("env"),
            site=params.get("site"),
            platform=params.get("platform"),
            as_of=params.get("as_of"),
        )
        insight = insight_get(organization, scope, rephrase=rephrase_for(organization))
        return Response(s.insight_data(insight))


class InsightDetailView(DriftView):
    @extend_schema(
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH)],
        responses={200: s.InsightSerializer, 404: OpenApiResponse(ErrorSerializer, description="not_found")},
        operation_id="insights_retrieve",
    )
    def get(self, request, pk: int):
        """One stored insight; another organisation's id (or an unknown one) is 404 not_found."""
        insight = Insight.objects.restrict(request.user, "view").filter(pk=pk).first()
        if insight is None:
            return error_response("not_found", f"no insight {pk}", 404)
        return Response(s.insight_data(insight))
