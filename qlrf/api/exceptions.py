"""Errors as JSON with a stable ``code``, a human ``detail`` and, for bad documents, the JSON pointer of each fault."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qlrf.errors import Conflict, DocumentRejected


class DocumentInvalid(exceptions.APIException):
    """A submitted document (contract, SBOM, scan result) is invalid; carries one entry per fault."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "invalid_document"
    default_detail = "the document is invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str = "invalid_document",
        errors: list[dict] | None = None,
        status_code: int | None = None,
    ):
        super().__init__(detail=detail, code=code)
        self.code = code
        self.errors = errors or []
        if status_code:
            self.status_code = status_code


class ConflictError(exceptions.APIException):
    """409: the request conflicts with the target's state (``qlrf.errors.Conflict`` raised by a service)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "the request conflicts with the current state"


def _flatten(detail, path: str = "") -> list[dict]:
    """DRF's nested ValidationError detail → a flat list of {path, code, detail}."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            sub = path if key in ("non_field_errors", "__all__") else f"{path}/{key}"
            items.extend(_flatten(value, sub))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            items.extend(_flatten(value, f"{path}/{index}" if nested else path))
        return items
    return [{"path": path or "/", "code": getattr(detail, "code", "invalid"), "detail": str(detail)}]


CODE_ALIASES = {"unique_together": "unique"}


def _code(error) -> str:
    code = error.code or "invalid"
    return CODE_ALIASES.get(code, code)


def _django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            field: [exceptions.ErrorDetail(m, code=_code(e)) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    else:
        detail = [exceptions.ErrorDetail(m, code=_code(e)) for e in exc.error_list for m in e.messages]
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    """DRF exception handler producing ``{"code", "detail", "errors"?}`` for every failure."""
    if isinstance(exc, DocumentRejected):
        exc = DocumentInvalid(
            exc.detail, code=exc.code, errors=exc.errors, status_code=413 if exc.code == "too_large" else None
        )
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None, code=getattr(exc, "code", None))
    elif isinstance(exc, Conflict):
        exc = ConflictError(exc.detail, code=exc.code)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    for name, value in getattr(exc, "rate_limit_headers", {}).items():  # 429s of qlrf.api.throttling
        response[name] = value
    if isinstance(exc, DocumentInvalid):
        response.data = {"code": exc.code, "detail": str(exc.detail), "errors": exc.errors}
        return response
    if getattr(exc, "document_errors", None) is not None:  # a document refused by its parser (too large)
        response.data = {"code": exc.get_codes(), "detail": str(exc.detail), "errors": exc.document_errors}
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = errors[0] if errors else {"code": "invalid", "detail": "invalid input"}
        code = first["code"] if len({e["code"] for e in errors}) == 1 else "invalid"
        response.data = {"code": code, "detail": first["detail"], "errors": errors}
        return response
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = codes if isinstance(codes, str) else "error"
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"code": code, "detail": str(detail)}
    return response


def error_response(code: str, detail: str, status_code: int, errors: list[dict] | None = None) -> Response:
    """Build an error response of the same shape outside an exception."""
    data = {"code": code, "detail": detail}
    if errors is not None:
        data["errors"] = errors
    return Response(data, status=status_code)
