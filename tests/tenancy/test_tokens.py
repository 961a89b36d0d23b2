"""CI tokens: Bearer auth, role, expiry, revocation, and never reaching another tenant."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.tenancy.models import ApiToken, AuditEvent, Project
from apps.tenancy.services import token_create, token_revoke
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_engineer_token_uses_the_api_and_never_reaches_another_tenant(tenant_a, tenant_b):
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    mine = ProjectFactory(organization=tenant_a.organization)
    theirs = ProjectFactory(organization=tenant_b.organization)
    client = bearer(raw)
    assert client.get(reverse("project-detail", args=[mine.pk])).status_code == 200
    # projects are the organisation's structure: an Engineer reads them, only an Admin creates them
    assert client.post(reverse("project-list"), {"name": "P", "slug": "p"}, format="json").status_code == 403
    _, admin_raw = token_create(actor=None, organization=tenant_a.organization, name="ci-admin", role="admin")
    response = bearer(admin_raw).post(reverse("project-list"), {"name": "Pipeline", "slug": "pipeline"}, format="json")
    assert response.status_code == 201
    assert Project.objects.get(slug="pipeline").organization == tenant_a.organization
    assert client.get(reverse("project-detail", args=[theirs.pk])).status_code == 404
    assert [o["slug"] for o in client.get(reverse("organization-list")).json()["results"]] == ["alpha"]
    refused = client.post(reverse("project-list"), {"organization": "bravo", "name": "x", "slug": "x"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "/organization"
    assert not Project.objects.filter(organization=tenant_b.organization, slug="x").exists()
    # the write is attributed to the token's service account in the audit trail
    event = AuditEvent.objects.filter(action="tenancy.project.create").latest("id")
    assert event.actor.api_token.name == "ci-admin"


def test_viewer_token_cannot_write(tenant_a):
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ro", role="viewer")
    response = bearer(raw).post(reverse("project-list"), {"name": "n", "slug": "n"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Project.objects.filter(slug="n").exists()


def test_revoked_token_is_401(tenant_a):
    token, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    assert bearer(raw).get(reverse("project-list")).status_code == 200
    token_revoke(actor=None, token=token)
    response = bearer(raw).get(reverse("project-list"))
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_token", "detail": "invalid, expired or revoked token"}


def test_expired_token_is_401(tenant_a):
    token, raw = token_create(
        actor=None,
        organization=tenant_a.organization,
        name="ci",
        role="engineer",
        expires_at=timezone.now() + datetime.timedelta(seconds=30),
    )
    assert bearer(raw).get(reverse("project-list")).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert bearer(raw).get(reverse("project-list")).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer qlrf_abc", "Bearer a b", "Bearer qlrf_000000000000_wrong"])
def test_malformed_or_unknown_token_is_401(tenant_a, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(reverse("project-list"))
    assert response.status_code == 401
    assert response.json()["code"] in ("invalid_token", "not_authenticated")


def test_token_hash_only_is_stored(tenant_a):
    token, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(stored)
    assert len(stored["key_hash"]) == 64


def test_token_of_another_tenant_cannot_be_revoked(tenant_a, tenant_b):
    theirs, raw = token_create(actor=None, organization=tenant_b.organization, name="ci", role="engineer")
    response = APIClient()
    response.force_authenticate(tenant_a.users["admin"])
    assert response.post(reverse("api-token-revoke", args=[theirs.pk])).status_code == 404
    assert bearer(raw).get(reverse("project-list")).status_code == 200


def test_expiry_in_the_past_is_refused(tenant_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        token_create(
            actor=None,
            organization=tenant_a.organization,
            name="old",
            role="viewer",
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )
    assert excinfo.value.error_dict["expires_at"][0].code == "expired"
    assert not ApiToken.objects.filter(name="old").exists()
