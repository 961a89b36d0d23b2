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
