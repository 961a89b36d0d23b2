"""Health, readiness and version endpoints."""

import pytest
from django.test import override_settings

import qlrf


@pytest.mark.django_db
def test_healthz_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert ("redis" in response.json()["checks"]) is bool(settings.REDIS_URL)


@pytest.mark.django_db
def test_readyz_names_the_failing_dependency(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_load_balancers_may_probe_with_head(client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""
    assert client.post(path).status_code == 405  # hostile counterpart: only safe methods


@pytest.mark.django_db
@override_settings(QLRF_GIT_COMMIT="0123456789abcdef")
def test_version_names_the_commit_to_signed_in_users_only(client, tenant_a):
    body = client.get("/version").json()
    assert body["version"] == qlrf.__version__
    assert body["name"] == "qlrf"
    assert body["commit"] is None
    client.force_login(tenant_a.users["viewer"])
    assert client.get("/version").json()["commit"] == "0123456789abcdef"


@pytest.mark.django_db
def test_api_root_schema_and_docs(client, tenant_a):
    client.force_login(tenant_a.users["viewer"])
    assert client.get("/api/v1/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI is served from our own static files, never a CDN: the portal works offline
    assert b'src="/static/drf_spectacular_sidecar/' in docs.content
    assert b'src="http' not in docs.content and b'href="http' not in docs.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_api_docs_behind_login_unless_public(client, settings, tenant_a, path):
    settings.QLRF_API_DOCS_PUBLIC = True
    assert client.get(path).status_code == 200
    settings.QLRF_API_DOCS_PUBLIC = False
    assert client.get(path).status_code in (401, 403)
    client.force_login(tenant_a.users["viewer"])
    assert client.get(path).status_code == 200
