"""/metrics in Prometheus format (token-protected when configured) and the error budget at /api/v1/health/slo."""

from __future__ import annotations

import re
import uuid

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from qlrf.metrics import MetricsMiddleware, slo_status

pytestmark = pytest.mark.django_db


def _fresh_cache():
    return override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}}
    )


def _sample(body: str, name: str, **labels) -> float:
    for line in body.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")) == labels:
            return float(match.group(2))
    return 0.0


def test_requests_are_counted_by_route_class_and_status(tenant_a):
    client = Client()
    client.force_login(tenant_a.users["viewer"])
    before = client.get("/metrics").content.decode()
    client.get("/api/v1/organizations")
    client.get("/api/v1/organizations/999999")
    after = client.get("/metrics")
    body = after.content.decode()
    assert after.status_code == 200
    assert after["Content-Type"].startswith("text/plain")
    ok = {"route_class": "api", "method": "GET", "status": "200"}
    missing = {"route_class": "api", "method": "GET", "status": "404"}
    assert _sample(body, "qlrf_http_requests_total", **ok) - _sample(before, "qlrf_http_requests_total", **ok) == 1
    assert (
        _sample(body, "qlrf_http_requests_total", **missing) - _sample(before, "qlrf_http_requests_total", **missing)
        == 1
    )
    assert _sample(body, "qlrf_http_request_duration_seconds_count", route_class="api") >= 2
    assert _sample(body, "qlrf_outbox_backlog") >= 0
    assert "qlrf_outbox_backlog " in body


def test_scan_outcomes_are_exported(tenant_a):
    from apps.inventory.models import Connector, ScanRun

    org = tenant_a.organization
    connector = Connector.objects.create(organization=org, platform="aws", name="prod")
    for status in ("succeeded", "succeeded", "failed"):
        ScanRun.objects.create(organization=org, connector=connector, status=status)
    body = Client().get("/metrics").content.decode()
    assert _sample(body, "qlrf_scan_runs", status="succeeded") == 2
    assert _sample(body, "qlrf_scan_runs", status="failed") == 1


@override_settings(QLRF_METRICS_TOKEN="s3cret-metrics")
def test_the_metrics_token_is_required_when_set():
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").json()["code"] == "not_authenticated"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 200


def test_the_error_budget_counts_5xx_against_the_objective():
    factory = RequestFactory()
    statuses = [200] * 990 + [404] * 8 + [500, 503]
    with _fresh_cache(), override_settings(QLRF_SLO_AVAILABILITY=0.995, QLRF_SLO_WINDOW_DAYS=30):
        for status in statuses:
            MetricsMiddleware(lambda request, s=status: HttpResponse(status=s))(factory.get("/api/v1/drift"))
        MetricsMiddleware(lambda request: HttpResponse(status=500))(factory.get("/healthz"))  # not a user request
        result = slo_status()
    assert result == {
        "objective": 0.995,
        "window_days": 30,
        "requests": 1000,
        "errors": 2,
        "availability": 0.998,
        "error_budget_remaining": 0.6,
    }


def test_an_unhandled_exception_counts_as_an_error():
    def boom(request):
        raise RuntimeError("boom")

    with _fresh_cache():
        with pytest.raises(RuntimeError):
            MetricsMiddleware(boom)(RequestFactory().get("/api/v1/drift"))
        assert slo_status()["errors"] == 1


def test_the_slo_endpoint_is_for_operators_or_the_metrics_token(tenant_a):
    member = Client()
    tenant_a.users["admin"].is_staff = True  # a tenant's admin may use the Django admin; the budget is not theirs
    tenant_a.users["admin"].save()
    member.force_login(tenant_a.users["admin"])
    staff_user = tenant_a.users["viewer"]
    staff_user.is_superuser = True
    staff_user.save()
    staff = Client()
    staff.force_login(staff_user)
    with _fresh_cache(), override_settings(QLRF_METRICS_TOKEN="tok"):
        anonymous = Client().get("/api/v1/health/slo")
        tenant_admin = member.get("/api/v1/health/slo")
        by_staff = staff.get("/api/v1/health/slo")
        by_token = Client().get("/api/v1/health/slo", HTTP_AUTHORIZATION="Bearer tok")
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "permission_denied"
    assert tenant_admin.status_code == 403
    assert by_staff.status_code == 200
    assert by_staff.json()["objective"] == 0.995
    assert by_staff.json()["requests"] >= 2  # the two refused requests before it were counted
    assert by_token.status_code == 200
