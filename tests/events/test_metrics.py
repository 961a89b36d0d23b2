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


def _exported(body: str) -> set[str]:
    """Every metric name a scrape can carry: samples, families without samples yet, counters' ``_total``."""
    names = set(re.findall(r"^([a-z_]+)(?:\{| )", body, re.M)) | set(re.findall(r"^# TYPE (\w+) ", body, re.M))
    return names | {f"{name}_total" for name in re.findall(r"^# TYPE (\w+) counter$", body, re.M)}


def test_every_metric_named_in_deploy_and_docs_is_exported(settings):
    """The alert rules, the dashboard, the chart's autoscaling metric and the docs' metric table name only metrics
    /metrics really exports (a renamed family would leave an alert that never fires)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    settings.QLRF_EVENTS_TRANSPORT = "none"
    exported = _exported(Client().get("/metrics").content.decode())
    sources = [
        *(root / "deploy" / "monitoring").glob("*.json"),
        *(root / "deploy" / "helm" / "qlrf" / "files").glob("*.yaml"),
    ]
    used = {name: path.name for path in sources for name in re.findall(r"\bqlrf_[a-z0-9_]+", path.read_text())}
    values = (root / "deploy" / "helm" / "qlrf" / "values.yaml").read_text()
    used |= dict.fromkeys(re.findall(r"metricName: (qlrf_\w+)", values), "values.yaml")
    table = (root / "docs" / "events.md").read_text().split("## Monitoring", 1)[1].split("\n## ", 1)[0]
    used |= dict.fromkeys(re.findall(r"^\| `(qlrf_\w+)", table, re.M), "docs/events.md")
    assert len(used) >= 10 and "qlrf_events_consumer_lag" in used
    missing = {name: where for name, where in used.items() if name not in exported}
    assert not missing, missing


def test_the_cross_check_catches_a_name_that_is_not_exported(settings):
    settings.QLRF_EVENTS_TRANSPORT = "none"
    exported = _exported(Client().get("/metrics").content.decode())
    assert "qlrf_events_publish_errors_total" in exported and "qlrf_events_consumer_partition_lag" in exported
    assert "qlrf_events_consumer_lag_total" not in exported and "qlrf_events_backlog_seconds" not in exported
