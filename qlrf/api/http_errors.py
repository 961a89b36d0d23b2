"""Django's own error answers (400, 403, 404, 500 raised outside DRF's views) as the API's JSON errors on ``/api/``.

A body Django refuses before any view runs (``RequestDataTooBig``: 413 ``too_large``; ``TooManyFieldsSent``,
``DisallowedHost`` and other ``SuspiciousOperation``s: 400 ``bad_request``), an unknown ``/api/`` path (404
``not_found``) and an unhandled exception (500 ``server_error``, with the request id and no trace) answer with the same
``{"code", "detail"}`` body as every API error. Every unhandled exception, API or not, is counted in
``qlrf_unhandled_exceptions_total``. Portal and admin pages keep Django's HTML pages.
"""

from __future__ import annotations

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

from qlrf.metrics import count_unhandled_exception
from qlrf.middleware import current_request_context

API_PREFIXES = ("/api/",)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIXES)


def _json(request, status: int, code: str, detail: str) -> JsonResponse:
    body = {"code": code, "detail": detail}
    context = current_request_context()
    if context is not None:
        body["request_id"] = context.request_id
    return JsonResponse(body, status=status)


def bad_request(request, exception=None, template_name="400.html"):
    if not _is_api(request):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return _json(request, 413, "too_large", "the request body is too large")
    return _json(request, 400, "bad_request", "the request could not be understood")


def permission_denied(request, exception=None, template_name="403.html"):
    if not _is_api(request):
        return defaults.permission_denied(request, exception, template_name)
    return _json(request, 403, "permission_denied", "you do not have permission to perform this action")


def page_not_found(request, exception=None, template_name="404.html"):
    if not _is_api(request):
        return defaults.page_not_found(request, exception, template_name)
    return _json(request, 404, "not_found", "no such API path")


def server_error(request, template_name="500.html"):
    """Django calls this once per unhandled exception (after logging it once): count it, answer without a trace."""
    count_unhandled_exception(request.path, sys.exc_info()[1])
    if not _is_api(request):
        return defaults.server_error(request, template_name)
    return _json(request, 500, "server_error", "an unexpected error occurred; it was logged with the request id")
