"""Log lines that carry the request id, JSON in production, and one counted record per unhandled exception.

``RequestIdFilter`` sits on the console handler, so every record (Django's, a library's, ours) gets ``request_id``
from the request being served (``None`` outside a request: the CLI, tasks, start-up). ``JsonFormatter`` writes one
JSON object per line (python-json-logger). Django itself logs an unhandled exception once (``django.request``,
"Internal Server Error", with the traceback) and calls ``handler500`` once, which counts it
(``qlrf.api.http_errors.server_error`` → ``qlrf_unhandled_exceptions_total``) and answers without a trace.
"""

from __future__ import annotations

import logging
import time

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from qlrf.middleware import current_request_context

JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id"]


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None) to every record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request_context()
            record.request_id = context.request_id if context is not None else None
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and ``exc_info`` (the
    formatted traceback) when there is one; any ``extra=`` fields are added as keys."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", JSON_FIELDS)
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)
        self.converter = time.gmtime
