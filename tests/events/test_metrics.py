"""The event bus on the shared /metrics: backlog, oldest age, published, consumer, dead letters, webhook outcomes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from apps.events.models import DeadLetter, InboundProcessed, OutboxEvent
from apps.events.services.relay import relay_pass
from apps.events.transports import transport_get

from .conftest import version_events

pytestmark = pytest.mark.django_db


def _sample(body: str, name: str, **labels) -> float | None:
    for line in body.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")) == labels:
            return float(match.group(2))
    return None


def test_backlog_age_published_and_dead_letters_are_scraped(settings, tenant_a):
    settings.QLRF_EVENTS_TRANSPORT = "none"
    body = Client().get("/metrics").content.decode()
    assert _sample(body, "qlrf_events_backlog", transport="none") == 0
    assert _sample(body, "qlrf_events_oldest_unpublished_age_seconds", transport="none") == 0
    assert _sample(body, "qlrf_events_dead_letters") == 0

    events = version_events(tenant_a.organization, 3)
    OutboxEvent.objects.filter(pk=events[0].pk).update(occurred_at=timezone.now() - datetime.timedelta(minutes=10))
    body = Client().get("/metrics").content.decode()
    assert _sample(body, "qlrf_events_backlog", transport="none") == 3
    assert 590 < _sample(body, "qlrf_events_oldest_unpublished_age_seconds", transport="none") < 900

    relay_pass(transport_get("none"))
    InboundProcessed.objects.create(id="evt-1", type="image.build.completed")
    DeadLetter.objects.create(event_id="x", raw="{", reason="not JSON")
    body = Client().get("/metrics").content.decode()
    assert _sample(body, "qlrf_events_backlog", transport="none") == 0
    assert _sample(body, "qlrf_events_oldest_unpublished_age_seconds", transport="none") == 0
    assert _sample(body, "qlrf_events_published_total", transport="none") == 3
    assert _sample(body, "qlrf_events_consumer_processed_total") == 1
    assert _sample(body, "qlrf_events_dead_letters") == 1
    for status in ("pending", "delivered", "failed"):
        assert _sample(body, "qlrf_events_webhook_deliveries", status=status) == 0
