"""Small helpers for raising refusals with stable codes from services."""

from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on one field whose code survives to the API's ``code`` and the CLI's message."""
    return ValidationError({field: ValidationError(message, code=code)})
