"""The request time budget: a request past it ends with 503 time_budget_exceeded, and the connection is clean after."""

from __future__ import annotations

import time

import pytest
from django.db import connection

pytestmark = [pytest.mark.urls("tests.budget.urls"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def budget(settings):
    settings.QLRF_REQUEST_TIME_BUDGET_SECONDS = 1
    return 1


def test_many_short_queries_stop_at_the_budget_with_a_json_503(client, budget):
    started = time.monotonic()
    response = client.get("/api/v1/_budget/many")
    assert time.monotonic() - started < budget + 1.5  # 200 × 20 ms would take 4 s
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "time_budget_exceeded" and body["request_id"] == response["X-Request-ID"]
    assert response["Retry-After"] == "30"


def test_one_long_query_is_cancelled_by_the_database_at_the_budget(client, budget):
    started = time.monotonic()
    response = client.get("/api/v1/_budget/long")
    assert time.monotonic() - started < budget + 3  # the statement alone runs 20 s (PostgreSQL) / minutes (SQLite)
    assert (response.status_code, response.json()["code"]) == (503, "time_budget_exceeded")


def test_a_portal_page_past_the_budget_is_an_html_503(client, budget):
    response = client.get("/_budget/long")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"budget" in response.content


def test_the_connection_serves_the_next_request_without_the_budget_left_on_it(client, budget):
    assert client.get("/api/v1/_budget/long").status_code == 503
    setting = client.get("/_budget/setting").json()["statement_timeout"]
    if connection.vendor == "postgresql":
        assert setting not in ("0", None)  # this request's own budget, set afresh
    with connection.cursor() as cursor:  # outside any request: no budget at all
        if connection.vendor == "postgresql":
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
        else:
            cursor.execute("SELECT 1")


def test_without_a_budget_nothing_is_set(client, settings):
    settings.QLRF_REQUEST_TIME_BUDGET_SECONDS = 0
    assert client.get("/_budget/setting").status_code == 200


@pytest.mark.django_db  # the test's own transaction wraps the requests, as in most of the suite and in atomic views
def test_inside_a_transaction_the_connection_stays_open_and_the_setting_is_reset(client, budget, tenant_a):
    for _ in range(2):
        assert client.get("/_budget/setting").status_code == 200
    assert connection.connection is not None and connection.in_atomic_block
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
        cursor.execute("SELECT count(*) FROM tenancy_organization")
        assert cursor.fetchone()[0] >= 1
