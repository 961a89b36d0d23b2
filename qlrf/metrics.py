"""Prometheus metrics at ``/metrics`` and the availability error budget at ``/api/v1/health/slo`` (ADR 015).

Request counts and latency come from prometheus-client, per process (set ``PROMETHEUS_MULTIPROC_DIR`` under a
multi-worker server). The error budget counts request outcomes per day in the Django cache — Redis when configured, so
every worker and pod adds to the same counters — and needs no Prometheus.
"""

from __future__ import annotations

import datetime
import functools
import hmac
import logging
import os
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter("qlrf_http_requests_total", "HTTP requests answered", ["route_class", "method", "status"])
LATENCY = Histogram("qlrf_http_request_duration_seconds", "HTTP request latency", ["route_class"])
UNHANDLED_EXCEPTIONS = Counter(
    "qlrf_unhandled_exceptions_total",
    "Unhandled exceptions answered with a 500 (each logged once with its request id)",
    ["route_class", "exception"],
)
SLO_KEY = "slo:{day}:{outcome}"
logger = logging.getLogger(__name__)


def route_class(path: str) -> str:
    """A bounded label for a path: api, admin, portal, health or metrics (never the raw path)."""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    if path in ("/healthz", "/readyz", "/version"):
        return "health"
    if path == "/metrics":
        return "metrics"
    return "portal"


def count_unhandled_exception(path: str, exception: BaseException | None) -> None:
    """One count per unhandled exception, by route class and exception type (a bounded label: the code's classes)."""
    UNHANDLED_EXCEPTIONS.labels(route_class(path), type(exception).__name__ if exception else "unknown").inc()


def _record_outcome(status: int) -> None:
    day = timezone.now().date().isoformat()
    outcomes = ["total", "error"] if status >= 500 else ["total"]
    for outcome in outcomes:
        key = SLO_KEY.format(day=day, outcome=outcome)
        if not cache.add(key, 1, timeout=settings.QLRF_SLO_WINDOW_DAYS * 86400 + 86400):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.QLRF_SLO_WINDOW_DAYS * 86400)


class MetricsMiddleware:
    """Counts every answer by route class, method and status, and times it; feeds the error budget."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            status = response.status_code
        except Exception:
            status = 500
            raise
        finally:
            klass = route_class(request.path)
            LATENCY.labels(klass).observe(time.perf_counter() - started)
            REQUESTS.labels(klass, request.method, str(status)).inc()
            if klass not in ("metrics", "health"):
                try:
                    _record_outcome(status)
                except Exception:  # a cache outage must not fail the request being counted
                    logger.warning("error-budget counter unavailable; outcome not counted", exc_info=True)
        return response


def slo_status(today: datetime.date | None = None) -> dict:
    """Availability (non-5xx share) over the window, against the objective, and the error budget left."""
    today = today or timezone.now().date()
    window = settings.QLRF_SLO_WINDOW_DAYS
    days = [(today - datetime.timedelta(days=n)).isoformat() for n in range(window)]
    keys = [SLO_KEY.format(day=d, outcome=o) for d in days for o in ("total", "error")]
    values = cache.get_many(keys)
    total = sum(v for k, v in values.items() if k.endswith(":total"))
    errors = sum(v for k, v in values.items() if k.endswith(":error"))
    objective = settings.QLRF_SLO_AVAILABILITY
    allowed = (1 - objective) * total
    return {
        "objective": objective,
        "window_days": window,
        "requests": total,
        "errors": errors,
        "availability": round(1 - errors / total, 6) if total else None,
        "error_budget_remaining": round(1 - errors / allowed, 6) if allowed else None,
    }


def _token_ok(request) -> bool:
    expected = settings.QLRF_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


def _refused(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


class _DatabaseCollector:
    """Outbox backlog and scan outcomes, read from the database at scrape time."""

    def collect(self):
        from apps.events.models import OutboxEvent
        from apps.inventory.models import ScanRun

        backlog = GaugeMetricFamily("qlrf_outbox_backlog", "Outbox events not yet published")
        backlog.add_metric([], OutboxEvent.objects.filter(published_at__isnull=True).count())
        yield backlog
        yield from _event_bus_metrics()
        yield from _task_queue_depth()
        scans = GaugeMetricFamily("qlrf_scan_runs", "Scan runs by status", labels=["status"])
        for row in ScanRun.objects.values("status").annotate(n=Count("id")):
            scans.add_metric([row["status"]], row["n"])
        yield scans


@functools.cache
def _queue_broker():
    """The django-q2 broker of this configuration, built once per process (it holds the Redis connection)."""
    from django_q.brokers import get_broker

    return get_broker()


def _task_queue_depth():
    """Tasks waiting in the django-q2 queue: the worker autoscaler's queue metric (chart: worker.autoscaling)."""
    try:
        size = _queue_broker().queue_size()
    except Exception:  # a broker outage must not take the other metrics down with it
        logger.warning("task queue depth unavailable", exc_info=True)
        return
    depth = GaugeMetricFamily("qlrf_task_queue_depth", "Tasks waiting in the django-q2 queue (not yet taken)")
    depth.add_metric([], size)
    yield depth


def _event_bus_metrics():
    """The event bus (issue #12), from the database so every relay, consumer and web process agrees at scrape time."""
    from django.db.models import Min

    from apps.events.models import DeadLetter, InboundProcessed, OutboxEvent, WebhookDelivery

    transport = settings.QLRF_EVENTS_TRANSPORT
    pending = OutboxEvent.objects.filter(published_at__isnull=True).aggregate(n=Count("id"), oldest=Min("occurred_at"))
    backlog = GaugeMetricFamily("qlrf_events_backlog", "Unpublished outbox events", labels=["transport"])
    backlog.add_metric([transport], pending["n"])
    yield backlog
    age = GaugeMetricFamily(
        "qlrf_events_oldest_unpublished_age_seconds", "Age of the oldest unpublished event (0 when none)",
        labels=["transport"],
    )  # fmt: skip
    oldest = pending["oldest"]
    age.add_metric([transport], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    yield age
    published = CounterMetricFamily(
        "qlrf_events_published", "Events published, by transport (retained outbox rows)", labels=["transport"]
    )
    for row in OutboxEvent.objects.filter(published_at__isnull=False).values("transport").annotate(n=Count("id")):
        published.add_metric([row["transport"]], row["n"])
    yield published
    processed = CounterMetricFamily("qlrf_events_consumer_processed", "Inbound events applied (processed ids kept)")
    processed.add_metric([], InboundProcessed.objects.count())
    yield processed
    dead = GaugeMetricFamily("qlrf_events_dead_letters", "Dead letters not yet redriven")
    dead.add_metric([], DeadLetter.objects.filter(redriven_at__isnull=True).count())
    yield dead
    deliveries = GaugeMetricFamily("qlrf_events_webhook_deliveries", "Webhook deliveries by outcome", labels=["status"])
    counts = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("id")))
    for status in WebhookDelivery.Status.values:
        deliveries.add_metric([status], counts.get(status, 0))
    yield deliveries
    from apps.events.metrics import event_bus_health_metrics

    yield from event_bus_health_metrics()


@require_GET
def metrics(request):
    """Prometheus exposition; a bearer ``QLRF_METRICS_TOKEN`` is required when one is set."""
    if settings.QLRF_METRICS_TOKEN and not _token_ok(request):
        return _refused(401, "not_authenticated", "a valid metrics bearer token is required")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    db_registry = CollectorRegistry()
    db_registry.register(_DatabaseCollector())
    body = generate_latest(registry) + generate_latest(db_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@require_GET
def slo(request):
    """The error budget: superusers or the metrics token only (it counts every tenant's traffic; staff are tenants')."""
    user = getattr(request, "user", None)
    if not (_token_ok(request) or (user is not None and user.is_authenticated and user.is_superuser)):
        return _refused(403, "permission_denied", "operators (superusers) or the metrics token only")
    return JsonResponse(slo_status())
