"""Create/update/delete for plain tenant objects: one mechanism for every simple model (validate, check, audit)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from qlrf.errors import Conflict

from .audit import audit_record, snapshot
from .permissions import ensure_permitted_on


def _check(actor, instance, action: str) -> None:
    ensure_permitted_on(actor, instance, action)


@transaction.atomic
def tenant_object_create(*, actor, model, data: dict):
    """Create a row of ``model`` from ``data`` (naming its organization) after validation and a permission check."""
    instance = model(**data)
    _check(actor, instance, "add")
    instance.full_clean()
    instance.save(force_insert=True)
    audit_record(
        organization=instance.organization,
        actor=actor,
        action=f"{model._meta.label_lower}.create",
        obj=instance,
        after=snapshot(instance),
    )
    return instance


@transaction.atomic
def tenant_object_update(*, actor, instance, data: dict):
    """Update fields of a row; the organization of a row never changes (a move across tenants is refused)."""
    instance = type(instance).objects.select_for_update().get(pk=instance.pk)
    _check(actor, instance, "change")
    before = snapshot(instance)
    organization_id = instance.organization_id
    for field, value in data.items():
        setattr(instance, field, value)
    if instance.organization_id != organization_id:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("an object cannot be moved to another organization")
    _check(actor, instance, "change")
    instance.full_clean()
    instance.save()
    audit_record(
        organization=instance.organization,
        actor=actor,
        action=f"{instance._meta.label_lower}.update",
        obj=instance,
        before=before,
        after=snapshot(instance),
    )
    return instance


@transaction.atomic
def tenant_object_delete(*, actor, instance) -> None:
    """Delete a row after a permission check, keeping its last state in the audit trail."""
    _check(actor, instance, "delete")
    before = snapshot(instance)
    audit_record(
        organization=instance.organization,
        actor=actor,
        action=f"{instance._meta.label_lower}.delete",
        obj=instance,
        before=before,
    )
    try:
        with transaction.atomic():  # a refused delete rolls back to here; the outer transaction stays usable
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict("in_use", f"{instance} is still used by {_holders(exc)}; remove or move those first") from None


def _holders(exc: ProtectedError | RestrictedError) -> str:
    """What holds a row: the count per kind and a few examples, e.g. "3 image versions (ubuntu@1.0.0, …)"."""
    by_model: dict[str, list] = {}
    for obj in exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects:
        by_model.setdefault(obj._meta.verbose_name_plural, []).append(obj)
    parts = []
    for name, objs in sorted(by_model.items()):
        examples = ", ".join(str(o) for o in objs[:3]) + (", …" if len(objs) > 3 else "")
        parts.append(f"{len(objs)} {name} ({examples})")
    return "; ".join(parts)
