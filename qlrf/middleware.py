"""Request context (request id, source IP) made available to the audit trail without passing the request around."""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass

# A sane incoming id: 1-64 characters from a safe set (uuids, hex, W3C/AWS trace ids), nothing to inject into logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,64}")
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("qlrf_request", default=None)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    source_ip: str | None


def current_request_context() -> RequestContext | None:
    """The context of the request being served, or None outside a request (CLI, tasks)."""
    return _current.get()


class RequestContextMiddleware:
    """Assigns a request id (honouring a sane incoming ``X-Request-ID``), records the client address, and echoes the
    id in the response's ``X-Request-ID``. First in MIDDLEWARE, so every log line of the request carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # for lines Django logs after the middleware chain (4xx: "Not Found: …")
        token = _current.set(RequestContext(request_id=request_id, source_ip=request.META.get("REMOTE_ADDR")))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiTrailingSlashMiddleware:
    """``/api/v1/assets/`` is ``/api/v1/assets``: an API path that only resolves without its trailing slash is served
    as that path (no redirect, so a POST keeps its body). The OpenAPI schema keeps one spelling of each path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and len(path) > len("/api/v1/"):
            stripped = path.rstrip("/")
            if not _resolves(path) and _resolves(stripped):
                request.path_info = stripped
                request.path = f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{stripped}"
        return self.get_response(request)


def _resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True
