"""The events API: the pull API for pipelines, webhook endpoints and the delivery log, behind the tenant wall."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.events.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from apps.tenancy.choices import RoleChoices
from tests.api_base import TenantAPITests
from tests.conftest import client_for


def published_event(organization, sequence: int, type_: str = "image.version.published") -> OutboxEvent:
    return OutboxEvent.objects.create(
        organization=organization,
        type=type_,
        payload={"family": "f", "version": str(sequence), "status": "published"},
        sequence=sequence,
        published_at=timezone.now(),
        transport="none",
    )


def endpoint(organization, name="ci") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organization=organization, name=name, url="https://hooks.example.com/qlrf", secret="whsec_" + "A" * 44
    )


class TestEventAPI(TenantAPITests):
    basename = "event"
    model = OutboxEvent
    writable = False
    deletable = False

    def make(self, tenant):
        last = OutboxEvent.objects.filter(organization=tenant.organization).exclude(sequence=None).count()
        return published_event(tenant.organization, last + 1)


class TestWebhookEndpointAPI(TenantAPITests):
    basename = "webhook-endpoint"
    model = WebhookEndpoint
    update_payload = {"event_types": ["image.*"]}

    def make(self, tenant):
        return endpoint(tenant.organization, name=f"ep-{uuid.uuid4().hex[:6]}")

    def create_payload(self, tenant):
        return {"organization": tenant.organization.slug, "name": f"new-{uuid.uuid4().hex[:6]}",
                "url": "https://hooks.example.com/in", "event_types": ["image.*", "drift.*"]}  # fmt: skip


class TestWebhookDeliveryAPI(TenantAPITests):
    basename = "webhook-delivery"
    model = WebhookDelivery
    writable = False
    deletable = False

    def make(self, tenant):
        return WebhookDelivery.objects.create(
            organization=tenant.organization,
            endpoint=endpoint(tenant.organization, name=f"ep-{uuid.uuid4().hex[:6]}"),
            event=published_event(tenant.organization, 100 + WebhookDelivery.objects.count()),
        )


# --- the pull API ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pull_api_pages_by_sequence_and_filters_by_type(tenant_a, tenant_b):
    for n in range(1, 6):
        published_event(tenant_a.organization, n, "image.version.published" if n % 2 else "drift.snapshot.written")
    published_event(tenant_b.organization, 1)
    OutboxEvent.objects.create(organization=tenant_a.organization, type="image.version.published",
                               payload={"family": "f", "version": "9", "status": "published"})  # fmt: skip
    client = client_for(tenant_a.users[RoleChoices.ADMIN])
    first = client.get(reverse("event-list"), {"limit": 2}).json()
    assert [e["sequence"] for e in first["results"]] == [1, 2]
    assert first["next_after"] == 2
    rest = client.get(reverse("event-list"), {"after": first["next_after"]}).json()
    assert [e["sequence"] for e in rest["results"]] == [3, 4, 5]  # the unpublished event is not listed yet
    assert {e["organization"] for e in rest["results"]} == {"alpha"}
    images = client.get(reverse("event-list"), {"type": "image.*"}).json()
    assert [e["sequence"] for e in images["results"]] == [1, 3, 5]
    assert images["results"][0]["event"]["specversion"] == "1.0"
    assert images["results"][0]["event"]["sequence"] == 1


@pytest.mark.django_db
def test_another_tenants_events_are_invisible_in_the_pull_api(tenant_a, tenant_b):
    theirs = [published_event(tenant_b.organization, n) for n in range(1, 4)]
    client = client_for(tenant_a.users[RoleChoices.ADMIN])
    for params in ({}, {"after": 0}, {"organization": "bravo"}, {"type": "image.*"}):
        body = client.get(reverse("event-list"), params).json()
        assert body == {"results": [], "next_after": None}
    assert client.get(reverse("event-detail", args=[theirs[0].pk])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "latest"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"type": "*.version"}, "type"),
    ],
)
def test_pull_api_bad_parameters_are_400_with_a_code(tenant_a, params, field):
    response = client_for(tenant_a.users[RoleChoices.ADMIN]).get(reverse("event-list"), params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and field in str(body)


@pytest.mark.django_db
def test_webhook_secret_is_shown_once_and_private_targets_are_refused(tenant_a):
    client = client_for(tenant_a.users[RoleChoices.ADMIN])
    created = client.post(reverse("webhook-endpoint-list"),
                          {"name": "ci", "url": "https://hooks.example.com/x"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    shown = client.get(reverse("webhook-endpoint-detail", args=[created.json()["id"]])).json()
    assert "secret" not in shown
    for url in ("http://127.0.0.1:8000/hook", "http://169.254.169.254/latest/meta-data", "http://10.0.0.5/x",
                "file:///etc/passwd"):  # fmt: skip
        refused = client.post(reverse("webhook-endpoint-list"), {"name": "bad", "url": url}, format="json")
        assert refused.status_code == 400, url
        assert "url" in str(refused.json())
    assert WebhookEndpoint.objects.count() == 1
