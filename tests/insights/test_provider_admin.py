"""An organisation's model provider is created, changed and removed in the admin through the service: audited with
before/after, validated (a credential reference, never a key), and cached answers of the old provider not served."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.insights.models import InsightProvider
from apps.tenancy.models import AuditEvent
from qlrf.cache_generation import generation

pytestmark = pytest.mark.django_db


def form(tenant, **changes) -> dict:
    data = {
        "organization": tenant.organization.pk,
        "enabled": "on",
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-4o-mini",
        "credential_ref": "env:QLRF_TEST_OPENAI_KEY",
        "max_output_tokens": 800,
        "requests_per_day": 100,
        "tokens_per_day": 200000,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_admin_creates_changes_and_removes_the_provider_audited(client, tenant_a):
    client.force_login(tenant_a.users["admin"])
    before = generation(tenant_a.organization)
    response = client.post(reverse("admin:insights_insightprovider_add"), form(tenant_a))
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = InsightProvider.objects.get(organization=tenant_a.organization)
    created = AuditEvent.objects.get(action="insights.provider.create", object_id=str(provider.pk))
    assert created.actor == tenant_a.users["admin"] and created.changes["after"]["model"] == "gpt-4o-mini"
    assert generation(tenant_a.organization) != before  # answers rephrased before the change are not served again

    url = reverse("admin:insights_insightprovider_change", args=[provider.pk])
    response = client.post(url, form(tenant_a, model="gpt-4.1", enabled=None))
    assert response.status_code == 302, response.content.decode()[:2000]
    changed = AuditEvent.objects.get(action="insights.provider.update", object_id=str(provider.pk))
    assert (changed.changes["before"]["model"], changed.changes["after"]["model"]) == ("gpt-4o-mini", "gpt-4.1")
    assert (changed.changes["before"]["enabled"], changed.changes["after"]["enabled"]) == (True, False)

    response = client.post(reverse("admin:insights_insightprovider_delete", args=[provider.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not InsightProvider.objects.filter(pk=provider.pk).exists()
    assert AuditEvent.objects.filter(action="insights.provider.delete", object_id=str(provider.pk)).exists()


def test_a_key_in_place_of_a_reference_is_refused_and_nothing_is_audited(client, tenant_a):
    client.force_login(tenant_a.users["admin"])
    response = client.post(reverse("admin:insights_insightprovider_add"), form(tenant_a, credential_ref="sk-live-123"))
    assert response.status_code == 200  # the form again, with the error
    assert "credential_ref" in response.content.decode() or "errornote" in response.content.decode()
    assert not InsightProvider.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="insights.provider").exists()


def test_another_tenants_provider_cannot_be_changed(client, tenant_a, tenant_b):
    theirs = InsightProvider.objects.create(organization=tenant_b.organization, kind="openai", model="m")
    client.force_login(tenant_a.users["admin"])
    url = reverse("admin:insights_insightprovider_change", args=[theirs.pk])
    response = client.post(url, form(tenant_b, model="hijacked"))
    assert response.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.model == "m"
    assert not AuditEvent.objects.filter(action__startswith="insights.provider").exists()
