"""Log lines that carry the request id, JSON in production, and one counted record per unhandled exception.

``RequestIdFilter`` sits on the console handler, so every record (Django's, a library's, ours) gets ``request_id``
from the request being served (``None`` outside a request: the CLI, tasks, start-up). ``JsonFormatter`` writes one
JSON object per line (python-json-logger). Django itself logs an unhandled exception once (``django.request``,
"Internal Server Error", with the traceback) and calls ``handler500`` once, which counts it
(``qlrf.api.http_errors.server_error`` → ``qlrf_unhandled_exceptions_total``) and answers without a trace.
``gunicorn_logconfig`` gives gunicorn (qlrf/gunicorn_conf.py) the same JSON lines for its own start-up, error and
access records; an access line takes the request id from the response's ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from qlrf.middleware import current_request_context

JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id"]


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None) to every record; never drops one.

    Django logs a 4xx answer ("Not Found: …") after the middleware chain has returned, outside the request context,
    but with the request in the record: its id is then taken from the request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request_context()
            if context is not None:
                record.request_id = context.request_id
            else:
                record.request_id = getattr(getattr(record, "request", None), "request_id", None)
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


class AccessLogFilter(logging.Filter):
    """gunicorn's access records (their args are gunicorn's atoms): the request id from the response's
    ``X-Request-ID`` header, and the method, path, status, size and duration as fields of their own."""

    FIELDS = {"method": "m", "path": "U", "status": "s", "bytes": "B", "remote": "h"}

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, Mapping) else {}
        if atoms:
            request_id = atoms["{x-request-id}o"]  # gunicorn's atoms answer "-" for a missing header
            record.request_id = request_id if request_id != "-" else None
            for field, atom in self.FIELDS.items():
                setattr(record, field, atoms[atom])
            record.duration_ms = round(int(atoms["D"]) / 1000, 3) if str(atoms["D"]).isdigit() else None
        elif not hasattr(record, "request_id"):
            record.request_id = None
        return True


def gunicorn_logconfig(log_format: str) -> dict:
    """gunicorn's ``logconfig_dict``: JSON lines for ``gunicorn.error`` (stderr) and ``gunicorn.access`` (stdout) in
    the ``json`` format; empty (gunicorn's own text lines) in the ``plain`` one."""
    if log_format != "json":
        return {}
    stream = {"class": "logging.StreamHandler", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}, "access": {"()": AccessLogFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "error_console": {**stream, "stream": "ext://sys.stderr", "filters": ["request_id"]},
            "console": {**stream, "stream": "ext://sys.stdout", "filters": ["access"]},
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
