"""Permission codenames, defined once, and the one table mapping each role to them.

The codenames exist as custom permissions on Organization and Project (guardian object permissions are granted on
those tenancy objects from memberships, never on individual rows). ``ACTION_PERMISSIONS`` maps a model's
``permission_scope`` and a CRUD action to the codename ``restrict(user, action)`` requires.
"""

from .choices import RoleChoices

PERMISSIONS: dict[str, str] = {
    "view_data": "View the organisation's data",
    "run_scan": "Run inventory scans",
    "generate_report": "Generate reports and evidence packs",
    "manage_connectors": "Manage connectors",
    "manage_images": "Manage the image registry and channels",
    "upload_artifacts": "Upload SBOMs, scan results and signatures",
    "manage_members": "Manage members and their roles",
    "manage_tokens": "Manage API tokens",
    "view_audit": "View the audit trail",
    "manage_organization": "Manage projects, environments and sites",
}

_VIEWER = {"view_data"}
_OPERATOR = _VIEWER | {"run_scan", "generate_report"}
_ENGINEER = _OPERATOR | {"manage_connectors", "manage_images", "upload_artifacts"}
_ADMIN = _ENGINEER | {"manage_members", "manage_tokens", "view_audit", "manage_organization"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    RoleChoices.VIEWER: frozenset(_VIEWER),
    RoleChoices.OPERATOR: frozenset(_OPERATOR),
    RoleChoices.ENGINEER: frozenset(_ENGINEER),
    RoleChoices.ADMIN: frozenset(_ADMIN),
}

# permission_scope → action → codename. "view" is always view_data except for scopes that are themselves restricted.
ACTION_PERMISSIONS: dict[str, dict[str, str]] = {
    "organization": {
        "view": "view_data",
        "add": "manage_organization",
        "change": "manage_organization",
        "delete": "manage_organization",
    },
    "members": {"view": "view_data", "add": "manage_members", "change": "manage_members", "delete": "manage_members"},
    "tokens": {"view": "manage_tokens", "add": "manage_tokens", "change": "manage_tokens", "delete": "manage_tokens"},
    "audit": {"view": "view_audit"},
    "images": {"view": "view_data", "add": "manage_images", "change": "manage_images", "delete": "manage_images"},
    "connectors": {
        "view": "view_data",
        "add": "manage_connectors",
        "change": "manage_connectors",
        "delete": "manage_connectors",
        "scan": "run_scan",
    },
    "inventory": {"view": "view_data"},
    "uploads": {
        "view": "view_data",
        "add": "upload_artifacts",
        "change": "upload_artifacts",
        "delete": "upload_artifacts",
    },
    "reports": {"view": "view_data", "add": "generate_report"},
    "events": {"view": "view_audit"},
    # DR drills provision machines with a connector's credentials: the connector managers (engineers) run them.
    "drills": {
        "view": "view_data",
        "add": "manage_connectors",
        "change": "manage_connectors",
        "delete": "manage_connectors",
        "run": "manage_connectors",
    },
    "webhooks": {
        "view": "manage_organization",
        "add": "manage_organization",
        "change": "manage_organization",
        "delete": "manage_organization",
    },
}

ROLE_ORDER = [RoleChoices.VIEWER, RoleChoices.OPERATOR, RoleChoices.ENGINEER, RoleChoices.ADMIN]


def role_permissions(role: str) -> frozenset[str]:
    """The codenames a role grants; an unknown role raises ValueError."""
    try:
        return ROLE_PERMISSIONS[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLE_ORDER)}") from None


def permission_for(scope: str, action: str) -> str:
    """The codename required for ``action`` on models of ``scope``; unknown pairs raise ValueError."""
    try:
        return ACTION_PERMISSIONS[scope][action]
    except KeyError:
        raise ValueError(f"no permission defined for action {action!r} on scope {scope!r}") from None
