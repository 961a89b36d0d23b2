"""Permission checks for writes, made again inside the write's transaction (NetBox's ``_validate_objects``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from ..roles import permission_for


def has_permission(user, codename: str, organization, project=None) -> bool:
    """Object permission on the organisation (or the project); ``user`` None is the installation (CLI) itself."""
    if user is None:
        return True
    if not user.is_active:
        return False
    perm = f"tenancy.{codename}"
    if user.has_perm(perm, organization):
        return True
    return project is not None and user.has_perm(perm, project)


def ensure_permitted(user, *, scope: str, action: str, organization, project=None) -> None:
    """Raise PermissionDenied unless ``user`` may perform ``action`` on ``scope`` objects of ``organization``."""
    codename = permission_for(scope, action)
    if not has_permission(user, codename, organization, project):
        raise PermissionDenied(f"you may not {action} {scope} in organization {organization.slug}")


def project_of(obj):
    """The project a tenant row belongs to (following its model's ``project_path``), or None."""
    path = getattr(obj, "project_path", None)
    if path is None:
        return None
    if path == "":
        return obj
    current = obj
    for part in path.split("__"):
        current = getattr(current, part, None)
        if current is None:
            return None
    return current


def ensure_permitted_on(actor, obj, action: str, *, scope: str | None = None) -> None:
    """``ensure_permitted`` for an existing row: its organisation, or the project it belongs to, must grant it."""
    ensure_permitted(
        actor,
        scope=scope or obj.permission_scope,
        action=action,
        organization=obj.organization,
        project=project_of(obj),
    )
