"""Memberships and the guardian object permissions they grant (kept in sync here, never per row)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from qlrf.errors import field_error

from ..models import Membership
from ..roles import PERMISSIONS, role_permissions
from .audit import audit_record, snapshot
from .permissions import ensure_permitted


def _validate_role(role: str) -> None:
    try:
        role_permissions(role)
    except ValueError as exc:
        raise field_error("role", str(exc), "unknown_role") from None


def _sync_permissions(user, target) -> None:
    """Make ``user``'s tenancy permissions on ``target`` (an Organization or Project) equal its membership's role."""
    from ..models import Organization

    lookup = (
        {"organization": target, "project__isnull": True} if isinstance(target, Organization) else {"project": target}
    )
    membership = Membership.objects.filter(user=user, **lookup).first()
    wanted = role_permissions(membership.role) if membership else frozenset()
    held = {codename for codename in get_perms(user, target) if codename in PERMISSIONS}
    for codename in held - wanted:
        remove_perm(f"tenancy.{codename}", user, target)
    for codename in wanted - held:
        assign_perm(f"tenancy.{codename}", user, target)


def _target(membership: Membership):
    return membership.project if membership.project_id else membership.organization


@transaction.atomic
def membership_add(*, actor, organization, user, role: str, project=None) -> Membership:
    """Give ``user`` a role in ``organization`` (or one of its projects) and grant the matching object permissions."""
    ensure_permitted(actor, scope="members", action="add", organization=organization)
    _validate_role(role)
    if project is not None and project.organization_id != organization.pk:
        raise field_error("project", "the project belongs to another organization", "project_outside_org")
    exists = Membership.objects.filter(organization=organization, user=user, project=project).exists()
    if exists:
        raise ValidationError("this user already has a membership with that scope", code="duplicate_membership")
    membership = Membership.objects.create(organization=organization, user=user, project=project, role=role)
    _sync_permissions(user, _target(membership))
    audit_record(
        organization=organization,
        actor=actor,
        action="tenancy.membership.create",
        obj=membership,
        after=snapshot(membership),
    )
    return membership


@transaction.atomic
def membership_update(*, actor, membership: Membership, role: str) -> Membership:
    """Change a membership's role and re-sync its permissions."""
    ensure_permitted(actor, scope="members", action="change", organization=membership.organization)
    _validate_role(role)
    before = snapshot(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    _sync_permissions(membership.user, _target(membership))
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="tenancy.membership.update",
        obj=membership,
        before=before,
        after=snapshot(membership),
    )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    """Remove a membership and the permissions it granted."""
    ensure_permitted(actor, scope="members", action="delete", organization=membership.organization)
    before = snapshot(membership)
    user, target = membership.user, _target(membership)
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="tenancy.membership.delete",
        obj=membership,
        before=before,
    )
    membership.delete()
    _sync_permissions(user, target)
