"""The site's URLs plus views that spend their time in the database, for the request time budget's tests."""

import time

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from qlrf.urls import urlpatterns as site


def many_short_queries(request):
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        time.sleep(0.02)
    return HttpResponse("done")


def one_long_query(request):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(20)")
        else:  # a statement SQLite works on for a long time
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000000) "
                "SELECT count(*) FROM n"
            )
        cursor.fetchall()
    return HttpResponse("done")


def timeout_setting(request):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW statement_timeout")
            return JsonResponse({"statement_timeout": cursor.fetchone()[0]})
        cursor.execute("SELECT 1")
    return JsonResponse({"statement_timeout": None})


urlpatterns = [
    path("api/v1/_budget/many", many_short_queries),
    path("api/v1/_budget/long", one_long_query),
    path("_budget/long", one_long_query),
    path("_budget/setting", timeout_setting),
    *site,
]
