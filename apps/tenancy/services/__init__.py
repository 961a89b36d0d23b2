"""Writes of the tenancy app. Each service is one transaction: check, validate, write, audit (STYLE.md)."""

from .audit import audit_record, snapshot
from .generic import tenant_object_create, tenant_object_delete, tenant_object_update
from .memberships import membership_add, membership_remove, membership_update
from .organizations import environment_create, organization_create, project_create, site_create
from .permissions import ensure_permitted, ensure_permitted_on, has_permission, project_of
from .tokens import token_authenticate, token_create, token_revoke

__all__ = [
    "audit_record",
    "ensure_permitted",
    "ensure_permitted_on",
    "environment_create",
    "has_permission",
    "membership_add",
    "membership_remove",
    "membership_update",
    "organization_create",
    "project_create",
    "project_of",
    "site_create",
    "snapshot",
    "tenant_object_create",
    "tenant_object_delete",
    "tenant_object_update",
    "token_authenticate",
    "token_create",
    "token_revoke",
]
