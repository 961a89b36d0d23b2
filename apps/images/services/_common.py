"""Helpers shared by the image services: event payloads and refusals of illegal transitions."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.events.services import emit
from apps.tenancy.services import audit_record, snapshot


def illegal(message: str) -> ValidationError:
    return ValidationError(message, code="illegal_transition")


def version_event(version, event_type: str, **extra) -> None:
    """Emit an ``image.version.*`` event for ``version``."""
    payload = {"family": version.family.slug, "version": version.version, "status": version.status, **extra}
    emit(organization=version.organization, type=event_type, payload=payload)


def audited(*, actor, obj, action: str, before: dict | None = None) -> None:
    audit_record(organization=obj.organization, actor=actor, action=action, obj=obj, before=before, after=snapshot(obj))
