"""The audit trail: every service writes one ``AuditEvent`` per write, inside its transaction."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict

from qlrf.cache_generation import generation_bump
from qlrf.middleware import current_request_context

from ..models import AuditEvent

SECRET_FIELDS = {"key_hash", "password"}


def snapshot(instance) -> dict:
    """A JSON-safe dict of a row's concrete fields (secrets left out), for before/after in the audit trail."""
    data = model_to_dict(instance, fields=[f.name for f in instance._meta.concrete_fields])
    data = {key: value for key, value in data.items() if key not in SECRET_FIELDS}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def audit_record(*, organization, actor, action: str, obj, before: dict | None = None, after: dict | None = None):
    """Append one audit event; ``actor`` None means the installation itself (CLI, scheduled task)."""
    generation_bump(organization)  # cached reads of this organisation miss from the commit on (ADR 015)
    context = current_request_context()
    changes = {}
    if before is not None:
        changes["before"] = before
    if after is not None:
        changes["after"] = after
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.pk else None,
        actor_repr=actor.get_username() if actor is not None else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
        request_id=context.request_id if context else "",
        source_ip=context.source_ip if context else None,
    )
