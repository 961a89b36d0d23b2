"""API rate limits per caller and per organisation, by endpoint class; shared across processes through Redis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core import serializers
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.test import APIClient

from apps.tenancy.models import RateLimitPolicy
from apps.tenancy.services import token_create
from qlrf.api import throttling

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("QLRF_TEST_LOAD_REDIS_URL", "redis://127.0.0.1:6379/8")
DEFAULTS = {
    "reads": {"organization": "5/minute", "principal": "3/minute"},
    "writes": {"organization": "100/minute", "principal": "100/minute"},
    "uploads": {"organization": "100/minute", "principal": "100/minute"},
    "gate": {"organization": "100/minute", "principal": "100/minute"},
}


def _limits(storage="memory://", key_prefix=None):
    """Rate limits switched on with tiny read quotas, on a storage and a (policy) cache no other test shares."""
    if storage == "memory://":
        storage = f"memory://?unique={uuid.uuid4().hex}"  # a fresh limiter (the limiter is cached per URI)
    cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    cache["KEY_PREFIX"] = key_prefix or uuid.uuid4().hex
    return override_settings(
        QLRF_RATE_LIMITS_ENABLED=True,
        QLRF_RATE_LIMIT_STORAGE=storage,
        QLRF_RATE_LIMITS=DEFAULTS,
        CACHES={"default": cache},
    )


def _token(tenant, name="ci"):
    admin = tenant.users["admin"]
    token, raw = token_create(actor=admin, organization=tenant.organization, name=name, role="viewer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return token, raw, client


def test_the_fourth_read_of_a_token_is_refused_with_retry_after_and_ietf_headers(tenant_a):
    with _limits():
        _, _, client = _token(tenant_a)
        statuses = [client.get("/api/v1/organizations").status_code for _ in range(3)]
        refused = client.get("/api/v1/organizations")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60
    assert refused["RateLimit-Policy"] == '"principal-reads";q=3;w=60, "organization-reads";q=5;w=60'
    assert refused["RateLimit"] == f'"principal-reads";r=0;t={wait}'


def test_reads_and_writes_are_counted_apart(tenant_a):
    with _limits():
        _, _, client = _token(tenant_a)
        for _ in range(3):
            client.get("/api/v1/organizations")
        assert client.get("/api/v1/organizations").status_code == 429
        # A write is its own class: refused for its role (viewer), not for the exhausted read quota.
        write = client.post("/api/v1/projects", {"name": "x", "slug": "x"}, format="json")
    assert write.status_code == 403


def test_the_organisation_quota_is_shared_by_its_callers_and_not_by_other_tenants(tenant_a, tenant_b):
    with _limits():
        _, _, first = _token(tenant_a, "one")
        _, _, second = _token(tenant_a, "two")
        _, _, other = _token(tenant_b, "three")
        answers = [first.get("/api/v1/organizations").status_code for _ in range(3)]
        answers += [second.get("/api/v1/organizations").status_code for _ in range(2)]
        refused = second.get("/api/v1/organizations")  # the second caller's own quota is not spent yet
        answers.append(refused.status_code)
        other_tenant = other.get("/api/v1/organizations").status_code
    assert answers == [200, 200, 200, 200, 200, 429]
    assert refused["RateLimit"].startswith('"organization-reads";r=0;')
    assert other_tenant == 200


def test_a_person_is_limited_like_a_token(tenant_a):
    client = APIClient()
    client.force_login(tenant_a.users["viewer"])
    with _limits():
        statuses = [client.get("/api/v1/organizations").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_an_organisation_override_in_the_admin_replaces_the_default(tenant_a, tenant_b):
    RateLimitPolicy.objects.create(
        organization=tenant_a.organization, endpoint_class="reads", principal_rate="1/minute"
    )
    with _limits():
        _, _, client_a = _token(tenant_a, "a")
        _, _, client_b = _token(tenant_b, "b")
        a = [client_a.get("/api/v1/organizations").status_code for _ in range(2)]
        b = [client_b.get("/api/v1/organizations").status_code for _ in range(2)]
    assert a == [200, 429]
    assert b == [200, 200]


def test_a_superuser_edits_the_override_in_the_admin_and_it_applies_at_once(tenant_a, admin_client):
    with _limits():
        _, _, client = _token(tenant_a)
        assert client.get("/api/v1/organizations").status_code == 200  # caches the organisation's (empty) overrides
        response = admin_client.post(
            "/admin/tenancy/ratelimitpolicy/add/",
            {"organization": tenant_a.organization.pk, "endpoint_class": "reads", "principal_rate": "1/minute"},
        )
        assert response.status_code == 302
        allowed = client.get("/api/v1/organizations")  # a new quota counts afresh (limits keys on the rate)
        refused = client.get("/api/v1/organizations")
    assert allowed.status_code == 200
    assert refused.status_code == 429
    assert '"principal-reads";q=1;w=60' in refused["RateLimit-Policy"]


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "-1/minute"])
def test_a_malformed_override_is_refused(tenant_a, rate):
    policy = RateLimitPolicy(organization=tenant_a.organization, endpoint_class="reads", principal_rate=rate)
    with pytest.raises(ValidationError) as caught:
        policy.full_clean()
    assert caught.value.error_dict["principal_rate"][0].code == "invalid_rate"
    assert RateLimitPolicy.objects.count() == 0


def test_a_tenant_admin_cannot_raise_their_own_limits(tenant_a):
    from django.contrib import admin

    staff = tenant_a.users["admin"]
    staff.is_staff = True
    request = type("R", (), {"user": staff})()
    model_admin = admin.site._registry[RateLimitPolicy]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)


def test_uploads_and_gate_checks_are_their_own_classes():
    from apps.compliance.api.views import GateCheckView, ImageSbomView, ImageSignatureView

    post = type("R", (), {"method": "POST"})()
    get = type("R", (), {"method": "GET"})()
    assert throttling.endpoint_class(post, GateCheckView()) == "gate"
    assert throttling.endpoint_class(post, ImageSbomView()) == "uploads"
    assert throttling.endpoint_class(post, ImageSignatureView()) == "uploads"
    assert throttling.endpoint_class(get, ImageSbomView()) == "reads"
    assert throttling.endpoint_class(post, object()) == "writes"


def test_an_unreachable_store_lets_requests_through(tenant_a):
    with _limits(storage="redis://127.0.0.1:1/0"):
        _, _, client = _token(tenant_a)
        statuses = [client.get("/api/v1/organizations").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]


def test_limits_hold_across_two_processes_sharing_redis(tenant_a):
    """This process spends two of three reads; a second process, same Redis, gets one more and then a 429."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    token, raw, client = _token(tenant_a)
    token.created_by = None  # the second process holds only the token's own rows
    fixture = serializers.serialize("json", [token.service_user, tenant_a.organization, token])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with _limits(storage=REDIS, key_prefix=f"qlrf-test-{worker}"):  # the second process's prefix (settings/test.py)
        here = [client.get("/api/v1/").status_code for _ in range(2)]
        env = {
            **os.environ,
            "QLRF_DATABASE_URL": "sqlite:///:memory:",
            "QLRF_RATE_LIMITS_ENABLED": "true",
            "QLRF_RATE_LIMIT_STORAGE": REDIS,
            "QLRF_RATE_LIMIT_READS": "5/minute",
            "QLRF_RATE_LIMIT_READS_PRINCIPAL": "3/minute",
            "QLRF_REDIS_URL": "",
            "QLRF_ALLOWED_HOSTS": "testserver",
            "PYTEST_XDIST_WORKER": worker,
        }
        job = {"fixture": fixture, "token": raw, "path": "/api/v1/", "count": 2}
        done = subprocess.run(
            [sys.executable, "-m", "tests.load.api_worker"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        there = json.loads(done.stdout.strip().splitlines()[-1])
        back_here = client.get("/api/v1/").status_code
    assert here == [200, 200]
    assert [a["status"] for a in there] == [200, 429]
    assert re.fullmatch(r'"principal-reads";r=0;t=\d+', there[1]["ratelimit"])
    assert back_here == 429
