"""Small helpers for raising refusals with stable codes from services."""

from django.core.exceptions import PermissionDenied, ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on one field whose code survives to the API's ``code`` and the CLI's message."""
    return ValidationError({field: ValidationError(message, code=code)})


class DocumentRejected(Exception):
    """A submitted document (contract, SBOM, scan result) is refused whole; ``errors`` locate each fault.

    Each error is ``{"path": <JSON pointer>, "line": <int|None>, "code": str, "detail": str}``. The API answers 422
    (413 for ``too_large``) with the same shape; the CLI prints one line per fault.
    """

    def __init__(self, code: str, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors or []


class Conflict(Exception):
    """The request conflicts with the state of the target (API: 409 with this ``code``); the CLI prints ``detail``."""

    status_code = 409

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Refused(PermissionDenied):
    """A PermissionDenied with a stable ``code`` (API: 403 with this code) for refusals worth telling apart."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
