"""Create/update/delete for plain tenant objects: one mechanism for every simple model (validate, check, audit)."""

from __future__ import annotations

from django.db import transaction

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
    instance.delete()
