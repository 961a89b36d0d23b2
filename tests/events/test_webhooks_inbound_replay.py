"""Webhooks (signed, retried, disabled), the inbound consumer with dead letters, and replay of a time range."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from apps.events.models import DeadLetter, InboundProcessed, OutboxEvent, WebhookDelivery, WebhookEndpoint
from apps.events.services.relay import relay_pass
from apps.events.services.webhooks import webhook_deliver_due, webhook_secret_new
from apps.events.transports import transport_get
from apps.images.models import ImageVersion
from tests.events.conftest import stream_entries, version_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooks(settings):
    """A receiver of this test's own, threaded: a hanging handler of one test never delays the next test's delivery."""
    settings.QLRF_WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.QLRF_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.QLRF_WEBHOOK_BACKOFF_SECONDS = 0
    settings.QLRF_WEBHOOK_MAX_FAILURES = 3
    server = HTTPServer(host="localhost", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _endpoint(tenant, url, types=()):
    return WebhookEndpoint.objects.create(organization=tenant.organization, name="ci", url=url,
                                          event_types=list(types), secret=webhook_secret_new())  # fmt: skip


def test_webhook_receives_signed_deliveries_a_receiver_can_verify(hooks, tenant_a, tenant_b):
    received = []

    def receive(request):
        received.append((request.get_data(), dict(request.headers)))
        return Response("ok")

    hooks.expect_request("/hook", method="POST").respond_with_handler(receive)
    endpoint = _endpoint(tenant_a, hooks.url_for("/hook"), ["image.*"])
    events = version_events(tenant_a.organization, 2)
    version_events(tenant_b.organization, 1)  # another tenant's event never reaches this endpoint
    assert relay_pass(transport_get("webhook")) == 3
    assert len(received) == 2
    for (body, headers), event in zip(received, events, strict=True):
        headers = {k.lower(): v for k, v in headers.items()}
        payload = Webhook(endpoint.secret).verify(body, headers)
        assert payload["id"] == headers["webhook-id"] == str(event.pk)
        assert payload["data"] == event.payload and headers["content-type"] == "application/cloudevents+json"
        with pytest.raises(WebhookVerificationError):
            Webhook(endpoint.secret).verify(body.replace(b"published", b"revoked"), headers)  # tampered body
    assert (
        list(WebhookDelivery.objects.values_list("status", "attempts", "last_status_code"))
        == [("delivered", 1, 200)] * 2
    )


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (lambda r: Response("boom", status=500), "HTTP 500"),
        (lambda r: Response("", status=302, headers={"Location": "http://169.254.169.254/"}), "redirect to"),
        (lambda r: time.sleep(1.5) or Response("late"), "timed out after 1s"),
    ],
    ids=["500", "redirect", "hang"],
)
def test_failing_endpoint_is_retried_then_disabled_visibly(hooks, tenant_a, respond, error):
    hooks.expect_request("/hook").respond_with_handler(respond)
    endpoint = _endpoint(tenant_a, hooks.url_for("/hook"))
    version_events(tenant_a.organization, 1)
    relay_pass(transport_get("webhook"))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1) and error in delivery.last_error
    assert webhook_deliver_due() == {"delivered": 0, "retry": 1, "failed": 0}
    assert webhook_deliver_due() == {"delivered": 0, "retry": 0, "failed": 1}
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.disabled_at is not None and endpoint.failure_count == 3
    assert (
        endpoint.disabled_reason.startswith("disabled after 3 consecutive failures")
        and error in endpoint.disabled_reason
    )
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    version_events(tenant_a.organization, 1, start=5)
    relay_pass(transport_get("webhook"))
    assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets no new deliveries


def test_a_200_with_an_unexpected_body_counts_as_delivered_and_is_logged_truncated(hooks, tenant_a):
    hooks.expect_request("/hook").respond_with_data("<html>" + "x" * 5000, status=200)
    _endpoint(tenant_a, hooks.url_for("/hook"))
    version_events(tenant_a.organization, 1)
    relay_pass(transport_get("webhook"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and len(delivery.response_excerpt) == 500


def test_loopback_target_is_refused_at_delivery_without_an_admin_allowance(settings, httpserver, tenant_a):
    settings.QLRF_WEBHOOK_ALLOW_PRIVATE = False
    _endpoint(tenant_a, httpserver.url_for("/hook").replace("localhost", "127.0.0.1"))
    version_events(tenant_a.organization, 1)
    relay_pass(transport_get("webhook"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error.startswith("refused target")
    assert httpserver.log == []


# --- inbound consumer and dead letters -----------------------------------------------------------------------------


def _build_event(contract, org="alpha", version="2026.3.0"):
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/ci/packer", "type": "image.build.completed",
        "organization": org, "datacontenttype": "application/json",
        "data": {"contract": contract, "version": version, "sbom_ref": "s3://sboms/x.json",
                 "artifacts": [{"platform": "aws", "image_ref": "ami-0123456789abcdef0", "region": "eu-west-1",
                                "account": "111111111111"}]},
    })  # fmt: skip


def test_inbound_build_event_registers_a_draft_version_once(redis_bus, settings, tenant_a, ubuntu_contract):
    body = _build_event(ubuntu_contract)
    for _ in range(2):  # the same event delivered twice
        redis_bus.xadd(settings.QLRF_EVENTS_INBOUND_STREAM, {"event": body})
    call_command("events_consume", "--once")
    version = ImageVersion.objects.get(organization=tenant_a.organization, version="2026.3.0")
    assert version.status == "draft"
    assert list(version.artifacts.values_list("platform", "image_ref")) == [("aws", "ami-0123456789abcdef0")]
    assert InboundProcessed.objects.count() == 1 and DeadLetter.objects.count() == 0
    assert OutboxEvent.objects.filter(type="image.version.registered").count() == 1
    pending = redis_bus.xpending(settings.QLRF_EVENTS_INBOUND_STREAM, "qlrf")
    assert pending["pending"] == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "/s",
                    "type": "image.build.completed",
                    "organization": "alpha",
                    "data": {"version": "1"},
                }
            ).encode(),
            "schema: /data",
        ),  # fmt: skip
    ],
)
def test_malformed_inbound_event_lands_in_the_dead_letters(redis_bus, settings, tenant_a, raw, reason):
    redis_bus.xadd(settings.QLRF_EVENTS_INBOUND_STREAM, {"event": raw})
    call_command("events_consume", "--once")
    letter = DeadLetter.objects.get()
    assert letter.reason.startswith(reason) and letter.raw == raw.decode()
    assert ImageVersion.objects.count() == 0 and InboundProcessed.objects.count() == 0


def test_dead_letter_for_an_unknown_organisation_is_redriven_after_the_fix(redis_bus, settings, tenant_a,
                                                                           ubuntu_contract):  # fmt: skip
    redis_bus.xadd(settings.QLRF_EVENTS_INBOUND_STREAM, {"event": _build_event(ubuntu_contract, org="charlie")})
    call_command("events_consume", "--once")
    letter = DeadLetter.objects.get()
    assert letter.reason == "unknown organization 'charlie'"
    tenant_a.organization.slug = "charlie"  # the fix: the organisation now exists under that slug
    tenant_a.organization.save()
    call_command("events_redrive", str(letter.pk))
    letter.refresh_from_db()
    assert letter.redrive_outcome == "applied" and letter.redriven_at is not None
    assert ImageVersion.objects.filter(organization=tenant_a.organization, status="draft").count() == 1
    call_command("events_redrive", "--all")  # nothing left to redrive; applying twice changes nothing
    assert ImageVersion.objects.count() == 1 and DeadLetter.objects.count() == 1


# --- replay ----------------------------------------------------------------------------------------------------------


def test_replay_of_a_time_range_republishes_exactly_the_stored_events_of_that_range(redis_bus, settings, tenant_a,
                                                                                    tenant_b):  # fmt: skip
    events = version_events(tenant_a.organization, 6)
    version_events(tenant_b.organization, 2)
    base = timezone.now() - timedelta(days=10)
    for n, event in enumerate(events):  # one event per day
        OutboxEvent.objects.filter(pk=event.pk).update(occurred_at=base + timedelta(days=n))
    relay_pass(transport_get("redis"))
    stream = settings.QLRF_EVENTS_REDIS_STREAM
    before = redis_bus.xlen(stream)
    since, until = (base + timedelta(days=2)).isoformat(), (base + timedelta(days=5)).isoformat()
    call_command("events_replay", "--org", "alpha", "--since", since, "--until", until, "--to", "redis")
    replayed = stream_entries(redis_bus, stream)[before:]
    assert [f["id"] for _, f in replayed] == [str(e.pk) for e in events[2:5]]
    assert all(f["replay"] == "1" and json.loads(f["event"])["replay"] is True for _, f in replayed)


def test_replay_refuses_a_bad_range_in_one_line(tenant_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--since must be an ISO 8601 time"):
        call_command("events_replay", "--org", "alpha", "--since", "yesterday")
    with pytest.raises(CommandError, match="unknown organization 'nope'"):
        call_command("events_replay", "--org", "nope")
