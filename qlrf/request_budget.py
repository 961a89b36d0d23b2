"""Every request has a time budget (``QLRF_REQUEST_TIME_BUDGET_SECONDS``), so no worker reaches gunicorn's timeout.

Gunicorn kills a worker that answers too late (``--timeout``, 60 s in the image): the client gets a reset connection,
every other request of that worker is lost with it, and nothing says why. Here the database — where a request's time
goes — enforces a budget below that timeout, and the request ends with a JSON (or HTML) 503 ``time_budget_exceeded``
instead. Long work belongs in a task (upload jobs, evidence packs, scans are queued already).

Mechanism: a ``connection.execute_wrapper`` installed for the request's duration sees every query of the request.

- Before each query, past the deadline, ``RequestBudgetExceeded`` is raised (a loop of many short queries stops).
- The first query on PostgreSQL sets ``statement_timeout`` to the time left (one long query is cancelled by the
  server); ``RESET statement_timeout`` restores the connection at the end, so a persistent connection is clean.
- On SQLite (the embedded default) a progress handler interrupts a long statement once the deadline has passed.

Tasks, the CLI and migrations run outside requests and have no budget.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse

from qlrf.middleware import current_request_context

logger = logging.getLogger(__name__)
CODE = "time_budget_exceeded"


class RequestBudgetExceeded(DatabaseError):
    """The request used its time budget; raised before a query that would start past the deadline."""


class _Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.armed = False

    def left_ms(self) -> int:
        return max(1, int((self.deadline - time.monotonic()) * 1000))

    def __call__(self, execute, sql, params, many, context):
        if time.monotonic() >= self.deadline:
            raise RequestBudgetExceeded(f"the request used its {self.seconds:g} s budget")
        if not self.armed:
            self._arm(context["cursor"])
        return execute(sql, params, many, context)

    def _arm(self, cursor) -> None:
        self.armed = True
        if connection.vendor == "postgresql":
            # On the driver's cursor: not a query of the request (query counts and logs stay the request's own).
            cursor.cursor.execute(f"SET statement_timeout = {self.left_ms()}")
        elif connection.vendor == "sqlite":
            deadline = self.deadline
            connection.connection.set_progress_handler(lambda: time.monotonic() >= deadline, 10_000)

    def disarm(self) -> None:
        if not self.armed or connection.connection is None:
            return
        if connection.vendor == "sqlite":
            connection.connection.set_progress_handler(None, 0)
            return
        if connection.vendor != "postgresql":
            return
        try:
            with connection.connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        except Exception:
            if connection.in_atomic_block:
                # An aborted transaction cannot run the RESET; PostgreSQL reverts the SET with its rollback.
                return
            logger.warning("could not reset the request's statement timeout; closing the connection", exc_info=True)
            connection.close()  # never reuse a connection with a request's timeout still set


def budget_exhausted(exc: BaseException) -> bool:
    """Whether ``exc`` is the budget ending a request (our check, PostgreSQL's cancel, SQLite's interrupt)."""
    if isinstance(exc, RequestBudgetExceeded):
        return True
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ == "QueryCanceled":  # psycopg: canceling statement due to timeout
        return True
    return isinstance(exc, DatabaseError) and "interrupted" in str(exc).lower()  # sqlite3: interrupted


class RequestBudgetMiddleware:
    """Install the budget for each request; answer 503 ``time_budget_exceeded`` when it runs out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = getattr(settings, "QLRF_REQUEST_TIME_BUDGET_SECONDS", 0)
        if not seconds:
            return self.get_response(request)
        budget = _Budget(seconds)
        try:
            with connection.execute_wrapper(budget):
                return self.get_response(request)
        finally:
            budget.disarm()

    def process_exception(self, request, exception):
        if not budget_exhausted(exception):
            return None
        seconds = getattr(settings, "QLRF_REQUEST_TIME_BUDGET_SECONDS", 0)
        detail = f"the request did not finish within its {seconds:g} s budget; try a narrower query or a queued job"
        logger.warning("request %s %s stopped: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            body = {"code": CODE, "detail": detail}
            context = current_request_context()
            if context is not None:
                body["request_id"] = context.request_id
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(f"<!doctype html><title>Try again</title><p>{detail}.</p>", status=503)
        response["Retry-After"] = "30"
        return response
