"""Every JSON body sent to ``/api/`` is checked before any view runs — whether or not the view reads it.

Size (``QLRF_API_JSON_MAX_BYTES``; a declared Content-Length over it is refused unread), strict UTF-8, nesting depth
(``QLRF_API_JSON_MAX_DEPTH``, a flat scan), no NUL character, and valid JSON. A bad body gets the API's JSON error
(413 ``too_large``; 400 ``invalid_encoding``/``nesting_too_deep``/``nul_character``/``parse_error``) and changes
nothing. A good body is handed on as the bytes read, so the view parses exactly what was checked (ADR 016).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, resolve

from qlrf.middleware import current_request_context

from .parsers import BadBody, PayloadTooLarge, decode_utf8, nesting_depth_check, read_bounded, refuse_nul

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _takes_documents(request) -> bool:
    """Views that take whole documents (SBOMs, scan results: ``accepts_documents``) bound and parse them themselves,
    with the upload limit; JSON there is a document, not a request body."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    return bool(getattr(view, "accepts_documents", False))


def check_json_body(raw: bytes) -> None:
    text = decode_utf8(raw)
    nesting_depth_check(text, settings.QLRF_API_JSON_MAX_DEPTH)
    refuse_nul(text)
    try:
        json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise BadBody(f"JSON parse error: {exc}", "parse_error") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class JsonBodyGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in WRITE_METHODS
            and request.path.startswith("/api/")
            and _is_json(request.content_type)
            and not _takes_documents(request)
        ):
            refusal = self._check(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _check(self, request):
        limit = settings.QLRF_API_JSON_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "bad_request", "the Content-Length header is not a number")
        try:
            if declared > limit:
                raise PayloadTooLarge(f"the JSON body is larger than the limit of {limit} bytes")
            raw = read_bounded(request, limit, "the JSON body")
            if raw:
                check_json_body(raw)
        except (PayloadTooLarge, BadBody) as exc:
            return _error(exc.status_code, exc.get_codes(), str(exc.detail))
        request._body = raw  # what the view reads: exactly the bytes checked (Django's request.body)
        return None


def _error(status: int, code: str, detail: str) -> JsonResponse:
    body = {"code": code, "detail": detail}
    context = current_request_context()
    if context is not None:
        body["request_id"] = context.request_id
    return JsonResponse(body, status=status)
