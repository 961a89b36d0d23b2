"""Drift API: the report (live or as of a date), the outdated list (paged, sortable), the trend from snapshots."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import asdict

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.tenancy.models import Organization
from qlrf.api.exceptions import error_response
from qlrf.api.pagination import StandardPagination
from qlrf.api.schema import ErrorSerializer
from qlrf.cache_generation import generation

from ..outdated import CursorError, outdated_page
from ..reports import outdated_asset
from ..selectors import (
    DriftFilters,
    DriftQueryError,
    drift_as_of,
    drift_outdated_list,
    drift_report_data,
    drift_report_live,
    drift_trend,
)
from . import serializers as s

AS_OF_HELP = (
    "A past instant: ISO 8601 timestamp (offset honoured, none means UTC) or YYYY-MM-DD (the end of that day UTC; "
    "today means now). Answered from the snapshot in force then (the last taken at or before it). "
    "400 invalid_as_of / as_of_in_future, 404 no_snapshot_before (docs/adr/010-as-of-snapshots.md)."
)
COMMON = [
    OpenApiParameter("organization", str, description="Organisation slug (optional when you belong to one)."),
    OpenApiParameter("env", str, description="Environment slug."),
    OpenApiParameter("platform", str, enum=["aws", "azure", "gcp", "vsphere"]),
    OpenApiParameter("site", str, description="Site slug."),
    OpenApiParameter("as_of", str, description=AS_OF_HELP),
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
            if exc.parameter == "organization" and "unknown" in exc.message:
                code, status = "not_found", 404
            else:
                code, status = exc.code, exc.status
            return error_response(
                code,
                exc.message,
                status,
                [{"path": f"/query/{exc.parameter}", "code": code, "detail": exc.message}],
            )
        return super().handle_exception(exc)


class DriftReportView(DriftView):
    @extend_schema(parameters=COMMON, responses=s.DriftReportSetSerializer, operation_id="drift_report")
    def get(self, request):
        """DriftReports per platform × environment × site, with roll-ups per environment, site and platform."""
        organization = self.organization(request)
        filters, as_of = self.filters(request), request.query_params.get("as_of")
        if as_of:
            report = drift_report_data(organization, filters=filters, as_of=as_of)
            return Response({"organization": organization.slug, **report})
        report, tag = drift_report_live(organization, filters=filters)
        return conditional(request, f"report-{tag}", lambda: {"organization": organization.slug, **report})


class OutdatedPagination(StandardPagination):
    """The page envelope plus where the rows come from: live, or which snapshot answered ``as_of`` (ADR 010).

    Live pages are keyset pages of a frozen build (ADR 021): ``next``/``previous`` carry a ``cursor``; ``offset`` is
    still accepted for a first jump. As-of pages read the immutable snapshot with ``limit``/``offset``.
    """

    provenance: dict

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        envelope = {key: response.data[key] for key in ("count", "next", "previous")}
        response.data = {**envelope, **self.provenance, "results": response.data["results"]}
        return response

    def get_schema_operation_parameters(self, view):
        cursor = {
            "name": "cursor",
            "required": False,
            "in": "query",
            "description": CURSOR_HELP,
            "schema": {"type": "string"},
        }
        return [*super().get_schema_operation_parameters(view), cursor]

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"] = {
            **result["properties"],
            "source": {"type": "string", "enum": ["live", "snapshot"]},
            "snapshot_id": {"type": "integer", "nullable": True},
            "snapshot_taken_at": {"type": "string", "format": "date-time", "nullable": True},
            "as_of": {"type": "string", "format": "date-time", "nullable": True},
        }
        provenance = ("source", "snapshot_id", "snapshot_taken_at", "as_of")
        result["required"] = sorted({*result.get("required", []), *provenance})
        return result


CURSOR_HELP = (
    "Opaque position in the live list, from a page's `next` or `previous` link (ADR 021). A cursor keeps paging the "
    "list as it stood on its first page, even after writes; once that list is retired (idle for 10 minutes after a "
    "newer one replaced it, or 8 newer ones exist) the answer is 410 `cursor_expired`: start again without a cursor. "
    "A cursor from another ordering or filter, or not handed out by this API: 400 `invalid_cursor`. Not with `as_of`."
)


class DriftOutdatedView(DriftView):
    pagination_class = OutdatedPagination  # the schema documents the page envelope, ?limit=&offset= and ?cursor=

    @extend_schema(
        parameters=[*COMMON, OpenApiParameter("ordering", str, enum=["-days_behind", "days_behind"])],
        responses={
            200: s.OutdatedAssetSerializer(many=True),
            410: OpenApiResponse(ErrorSerializer, description="the cursor's list was retired (code cursor_expired)"),
        },
        operation_id="drift_outdated",
    )
    def get(self, request):
        """Every outdated machine, paged, most days behind first (``ordering=days_behind`` for the reverse)."""
        organization = self.organization(request)
        descending = request.query_params.get("ordering", "-days_behind") != "days_behind"
        as_of = request.query_params.get("as_of")
        paginator = self.pagination_class()
        if not as_of:
            return self.live_page(request, organization, paginator, descending)
        if request.query_params.get("cursor"):
            raise DriftQueryError("cursor", "as_of pages use limit and offset, not a cursor", code="invalid_cursor")
        at, snapshot = drift_as_of(organization, as_of)
        source, rows, evaluation = drift_outdated_list(
            organization, filters=self.filters(request), as_of=as_of, descending=descending
        )
        paginator.provenance = {
            "source": source,
            "snapshot_id": snapshot.pk if snapshot else None,
            "snapshot_taken_at": snapshot.taken_at if snapshot else None,
            "as_of": at,
        }
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([asdict(outdated_asset(row, source, evaluation)) for row in page])

    def live_page(self, request, organization, paginator, descending: bool) -> Response:
        """A keyset page of the organisation's current (or the cursor's) frozen outdated list."""
        filters = self.filters(request)
        filters.validate(organization)
        limit, offset = paginator.get_limit(request), paginator.get_offset(request)
        try:
            page = outdated_page(
                organization,
                filters=filters,
                descending=descending,
                limit=limit,
                offset=offset,
                cursor=request.query_params.get("cursor") or None,
            )
        except CursorError as exc:
            raise DriftQueryError("cursor", exc.message, code=exc.code, status=exc.status) from None
        url = remove_query_param(request.build_absolute_uri(), "offset")

        def link(cursor):
            return replace_query_param(url, "cursor", cursor.encode()) if cursor else None

        body = {
            "count": page.count,
            "next": link(page.next),
            "previous": link(page.previous),
            "source": "live",
            "snapshot_id": None,
            "snapshot_taken_at": None,
            "as_of": None,
            "results": [asdict(row) for row in page.rows],
        }
        return Response(body)


class DriftTrendView(DriftView):
    @extend_schema(
        parameters=[
            OpenApiParameter("organization", str),
            OpenApiParameter("env", str),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("interval", str, enum=["day", "week"]),
            OpenApiParameter("as_of", str, description=AS_OF_HELP + " Nothing taken after it counts."),
        ],
        responses=s.TrendPointSerializer(many=True),
        operation_id="drift_trend",
    )
    def get(self, request):
        """Coverage and drift % per environment over time, from the immutable snapshots."""
        organization = self.organization(request)
        at, _ = drift_as_of(organization, request.query_params.get("as_of"))
        today = (at or timezone.now()).astimezone(datetime.UTC).date()
        start = _date(request.query_params.get("from"), "from", today - datetime.timedelta(days=30))
        end = _date(request.query_params.get("to"), "to", today)
        query = request.META.get("QUERY_STRING", "")
        tag = hashlib.sha256(f"{organization.pk}|{generation(organization)}|{today}|{query}".encode()).hexdigest()
        return conditional(request, f"trend-{tag[:32]}", lambda: self.points(organization, request, start, end, at))

    def points(self, organization, request, start, end, at):
        return drift_trend(
            organization,
            environment=request.query_params.get("env") or None,
            start=start,
            end=end,
            interval=request.query_params.get("interval", "day"),
            as_of=at,
        )


def conditional(request, tag: str, body) -> Response:
    """``304 Not Modified`` when the client already holds ``tag`` (``If-None-Match``), else 200 with ``ETag``.

    ``body`` is only called on a 200, so a 304 reads nothing from the fleet (ADR 015: generation caches).
    """
    etag = f'"{tag}"'
    wanted = [part.strip() for part in request.headers.get("If-None-Match", "").split(",")]
    response = Response(status=304) if etag in wanted or f"W/{etag}" in wanted else Response(body())
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _date(value: str | None, name: str, default: datetime.date) -> datetime.date:
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DriftQueryError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
