"""Request context (request id, source IP) made available to the audit trail without passing the request around."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("qlrf_request", default=None)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    source_ip: str | None


def current_request_context() -> RequestContext | None:
    """The context of the request being served, or None outside a request (CLI, tasks)."""
    return _current.get()


class RequestContextMiddleware:
    """Assigns a request id (honouring a sane incoming ``X-Request-ID``) and records the client address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = _current.set(RequestContext(request_id=request_id, source_ip=request.META.get("REMOTE_ADDR")))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
