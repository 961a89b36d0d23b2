"""Unhandled exceptions: logged once, as JSON, with the request id; counted; answered as a JSON 500 without a trace."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from qlrf.log import JsonFormatter, RequestIdFilter
from tests.failing_urls import SECRET

ROOT = Path(__file__).resolve().parent.parent
COUNTER = "qlrf_unhandled_exceptions_total"
DETAIL = "an unexpected error occurred; it was logged with the request id"


def counted(route_class: str, exception: str) -> float:
    return REGISTRY.get_sample_value(COUNTER, {"route_class": route_class, "exception": exception}) or 0.0


def get_with_json_log(client: Client, url: str, **headers) -> tuple[object, list[dict]]:
    """GET ``url`` while the root logger also writes through the production JSON formatter and request-id filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = client.get(url, **headers)
    finally:
        root.removeHandler(handler)
    return response, [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def failing(settings):
    settings.ROOT_URLCONF = "tests.failing_urls"
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("url", "exception"), [("/api/v1/test-failure", "RuntimeError"), ("/api/v1/test-failure-drf", "KeyError")]
)
def test_a_forced_exception_is_logged_once_with_the_request_id_counted_and_answered_as_json(failing, url, exception):
    before = counted("api", exception)
    response, lines = get_with_json_log(failing, url, HTTP_X_REQUEST_ID="req-4f2a:trace/1")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response["X-Request-ID"] == "req-4f2a:trace/1"
    assert response.json() == {"code": "server_error", "detail": DETAIL, "request_id": "req-4f2a:trace/1"}
    body = response.content.decode()
    assert "Traceback" not in body and SECRET not in body and exception not in body

    assert counted("api", exception) == before + 1

    assert all(line["request_id"] == "req-4f2a:trace/1" for line in lines), lines  # every line of the request
    (failure,) = [line for line in lines if "exc_info" in line]  # exactly once
    assert failure["level"] == "ERROR"
    assert failure["logger"] == "django.request"
    assert failure["message"] == f"Internal Server Error: {url}"
    assert failure["exc_info"].startswith("Traceback (most recent call last):")
    assert f"{exception}: " in failure["exc_info"] and SECRET in failure["exc_info"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", failure["time"])
    assert [line["message"] for line in lines if line["logger"] == "qlrf.tests.failing"] == ["about to fail"]


def test_without_a_sane_incoming_id_one_is_generated_and_used_everywhere(failing):
    before = counted("api", "RuntimeError")
    response, lines = get_with_json_log(failing, "/api/v1/test-failure", HTTP_X_REQUEST_ID='evil" id\t{"level":"x"}')
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.json()["request_id"] == request_id
    assert {line["request_id"] for line in lines} == {request_id}
    assert len([line for line in lines if "exc_info" in line]) == 1
    assert counted("api", "RuntimeError") == before + 1


def test_a_portal_failure_is_counted_and_answers_html_without_a_trace(failing):
    before = counted("portal", "RuntimeError")
    response, lines = get_with_json_log(failing, "/test-failure")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert SECRET not in response.content.decode() and "Traceback" not in response.content.decode()
    assert len([line for line in lines if "exc_info" in line]) == 1
    assert counted("portal", "RuntimeError") == before + 1


@pytest.mark.django_db
def test_the_counter_is_exported_at_metrics(failing, client):
    failing.get("/api/v1/test-failure")
    body = client.get("/metrics").content.decode()
    assert "# TYPE qlrf_unhandled_exceptions_total counter" in body
    value = re.search(
        r'^qlrf_unhandled_exceptions_total\{exception="RuntimeError",route_class="api"\} (\S+)$', body, re.M
    )
    assert value and float(value.group(1)) >= 1


def all_counted() -> float:
    return sum(s.value for m in REGISTRY.collect() if m.name == "qlrf_unhandled_exceptions" for s in m.samples
               if s.name == COUNTER)  # fmt: skip


def test_handled_errors_are_neither_counted_nor_logged_as_failures(failing):
    before = all_counted()
    response, lines = get_with_json_log(failing, "/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="not-found-1")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "no such API path", "request_id": "not-found-1"}
    assert all_counted() == before
    assert [line for line in lines if "exc_info" in line] == []
    # Django logs the 4xx after the middleware chain, outside the request context: the id still comes along
    (warning,) = [line for line in lines if line["logger"] == "django.request"]
    assert warning["message"] == "Not Found: /api/v1/no-such-endpoint"
    assert warning["request_id"] == "not-found-1"


def test_production_logs_are_json_lines_with_the_request_id_and_the_failure_once(tmp_path):
    """The real production settings and LOGGING, in a fresh process: every stderr line is JSON."""
    script = (
        "import django, json\n"
        "django.setup()\n"
        "from django.test import Client, override_settings\n"
        "from prometheus_client import REGISTRY\n"
        "with override_settings(ROOT_URLCONF='tests.failing_urls'):\n"
        "    r = Client(raise_request_exception=False).get('/api/v1/test-failure', HTTP_X_REQUEST_ID='prod-1')\n"
        "labels = {'route_class': 'api', 'exception': 'RuntimeError'}\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json(), 'header': r['X-Request-ID'],\n"
        "                  'counted': REGISTRY.get_sample_value('qlrf_unhandled_exceptions_total', labels)}))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("QLRF_") and key not in ("DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="qlrf.settings.production",
        QLRF_SECRET_KEY="production-logging-test-" + "x" * 40,
        QLRF_ALLOWED_HOSTS="testserver",
        QLRF_SECURE_SSL_REDIRECT="false",
        QLRF_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "status": 500,
        "body": {"code": "server_error", "detail": DETAIL, "request_id": "prod-1"},
        "header": "prod-1",
        "counted": 1.0,
    }
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]  # fails on any non-JSON line
    request_lines = [line for line in lines if line["request_id"] == "prod-1"]
    assert [line["message"] for line in request_lines] == [
        "about to fail",
        "Internal Server Error: /api/v1/test-failure",
    ]
    assert [line for line in lines if "exc_info" in line] == [request_lines[1]]
    assert "RuntimeError: " + SECRET in request_lines[1]["exc_info"]


def test_lines_logged_by_the_outer_middlewares_carry_the_request_id_too(failing, monkeypatch):
    """The request-id middleware is first: a warning from the metrics middleware (outermost before) has the id."""

    def unavailable(status):
        raise ConnectionError("cache down")

    monkeypatch.setattr("qlrf.metrics._record_outcome", unavailable)
    response, lines = get_with_json_log(failing, "/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="outer-1")
    assert response.status_code == 404
    (warning,) = [line for line in lines if line["logger"] == "qlrf.metrics"]
    assert warning["message"] == "error-budget counter unavailable; outcome not counted"
    assert warning["request_id"] == "outer-1"
