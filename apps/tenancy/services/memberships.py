"""Memberships and the guardian object permissions they grant (kept in sync here, never per row)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from qlrf.errors import Conflict, field_error

from ..models import ApiToken, Membership
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


UNKNOWN_USER = "no user of that name belongs to this organization"


def _unknown_user() -> ValidationError:
    # One answer for "exists in another organisation" and "does not exist": the username space is not an oracle.
    return field_error("user", UNKNOWN_USER, "unknown_user")


def membership_candidates(*, actor, organization):
    """Users ``actor`` may give a membership in ``organization``: people who already belong to it (at any scope).

    Users are created for an organisation by the installation (``manage.py member_add``, which creates the account
    and its first membership in one step); the installation itself (``actor`` None) and superusers may place any
    existing user. Token service accounts are never candidates: their one membership is the token's role.
    """
    users = get_user_model().objects.filter(api_token__isnull=True)
    if actor is None or actor.is_superuser:
        return users
    return users.filter(pk__in=Membership.objects.filter(organization=organization).values("user"))


def membership_user_resolve(*, actor, organization, username: str):
    """The candidate user called ``username``; the same ``unknown_user`` refusal whether it exists elsewhere or not."""
    user = membership_candidates(actor=actor, organization=organization).filter(username=username).first()
    if user is None:
        raise _unknown_user()
    return user


def ensure_not_service_account(membership: Membership) -> None:
    """A token's service account keeps the token's role: its membership changes only with the token (revoke it)."""
    if ApiToken.objects.filter(service_user_id=membership.user_id).exists():
        raise Conflict(
            "service_account_membership",
            "this membership belongs to an API token's service account; revoke the token instead",
        )


def _target(membership: Membership):
    return membership.project if membership.project_id else membership.organization


@transaction.atomic
def membership_add(*, actor, organization, user, role: str, project=None) -> Membership:
    """Give ``user`` a role in ``organization`` (or one of its projects) and grant the matching object permissions."""
    ensure_permitted(actor, scope="members", action="add", organization=organization)
    _validate_role(role)
    if project is not None and project.organization_id != organization.pk:
        raise field_error("project", "the project belongs to another organization", "project_outside_org")
    if not membership_candidates(actor=actor, organization=organization).filter(pk=user.pk).exists():
        raise _unknown_user()
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
    ensure_not_service_account(membership)
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
    ensure_not_service_account(membership)
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
