"""Shared helpers of the tenancy management commands (which the ``rf`` CLI also runs)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from apps.tenancy.models import Organization


def get_organization(slug: str) -> Organization:
    try:
        return Organization.objects.get(slug=slug)
    except Organization.DoesNotExist:
        raise CommandError(f"no organization with slug {slug!r}") from None


def get_user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user named {username!r}") from None


def readable(exc: Exception) -> CommandError:
    """Turn a service's refusal into one readable line."""
    if isinstance(exc, ValidationError):
        messages = []
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                messages.extend(f"{field}: {m}" if field != "__all__" else m for m in errors)
        else:
            messages = exc.messages
        return CommandError("; ".join(messages))
    if isinstance(exc, PermissionDenied):
        return CommandError(str(exc) or "permission denied")
    return CommandError(str(exc))
