"""Connectors: create/update with their config validated against the platform's JSON Schema, schedules upserted."""

from __future__ import annotations

import jsonschema
from django.core.exceptions import ValidationError
from django.db import transaction
from django_q.models import Schedule

from apps.tenancy.services import audit_record, ensure_permitted, ensure_permitted_on, snapshot
from qlrf.errors import DocumentRejected, field_error

from ..connectors.base import BaseConnector, ConnectorError, get_connector_class
from ..credentials import CredentialError, resolve_secret, validate_reference
from ..models import Connector
from .schedules import connector_schedule_sync

EDITABLE = ("name", "project", "config", "credential_ref", "environment_rules", "schedule_minutes", "enabled")


def connector_config_check(platform: str, config: dict) -> None:
    """Raise DocumentRejected naming the JSON pointer of every fault of ``config`` against the platform's schema."""
    try:
        cls = get_connector_class(platform)
    except ConnectorError as exc:
        raise field_error("platform", str(exc), "unknown_platform") from None
    validator = jsonschema.Draft202012Validator(cls.config_schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        faults = [
            {
                "path": "/config" + "".join(f"/{p}" for p in e.absolute_path),
                "code": "invalid_config",
                "detail": e.message[:300],
            }
            for e in errors
        ]
        raise DocumentRejected(
            "invalid_config", f"the {platform} connector config is invalid: {faults[0]['detail']}", faults
        )


def _validate(connector: Connector) -> None:
    connector_config_check(connector.platform, connector.config)
    try:
        validate_reference(connector.credential_ref)
    except CredentialError as exc:
        raise field_error("credential_ref", str(exc), "invalid_reference") from None
    connector.full_clean()


@transaction.atomic
def connector_create(
    *, actor, organization, platform: str, name: str, config: dict | None = None, **fields
) -> Connector:
    """Create a connector (config validated, secret by reference only) and its scan schedule.

    The permission check comes first: a caller without the right learns nothing about what it sent.
    """
    ensure_permitted(actor, scope="connectors", action="add", organization=organization)
    connector = Connector(
        organization=organization,
        platform=platform,
        name=name,
        config={} if config is None else config,
        **{k: v for k, v in fields.items() if k in EDITABLE},
    )
    _validate(connector)
    connector.save()
    connector_schedule_sync(connector)
    audit_record(
        organization=organization,
        actor=actor,
        action="inventory.connector.create",
        obj=connector,
        after=snapshot(connector),
    )
    return connector


@transaction.atomic
def connector_update(*, actor, connector: Connector, **fields) -> Connector:
    """Change a connector's settings; the platform and organisation never change."""
    connector = Connector.objects.select_for_update().get(pk=connector.pk)
    ensure_permitted_on(actor, connector, "change")
    before = snapshot(connector)
    for name, value in fields.items():
        if name not in EDITABLE:
            raise field_error(name, f"{name} cannot be changed", "read_only")
        setattr(connector, name, value)
    _validate(connector)
    connector.save()
    connector_schedule_sync(connector)
    audit_record(
        organization=connector.organization,
        actor=actor,
        action="inventory.connector.update",
        obj=connector,
        before=before,
        after=snapshot(connector),
    )
    return connector


def connector_build(connector: Connector, **kwargs) -> BaseConnector:
    """Instantiate the platform connector with its validated config and resolved secret (ConnectorError if not)."""
    connector_config_check(connector.platform, connector.config)
    try:
        secret = resolve_secret(connector.credential_ref)
    except CredentialError as exc:
        raise ConnectorError(f"credential reference: {exc}") from None
    return get_connector_class(connector.platform)(connector.config, secret, **kwargs)


def connector_test(*, actor, connector: Connector) -> str:
    """Check credentials and reachability; return the connector's one-line answer or raise ConnectorError."""
    ensure_permitted_on(actor, connector, "change")
    try:
        return connector_build(connector).test_connection()
    except DocumentRejected as exc:
        raise ConnectorError(exc.detail) from None


@transaction.atomic
def connector_delete(*, actor, connector: Connector) -> None:
    """Delete a connector that never scanned, with its schedule; one with scan history is disabled, never deleted."""
    ensure_permitted_on(actor, connector, "delete")
    if connector.scan_runs.exists():
        raise ValidationError(
            f"{connector.name} has scan history, which is kept: disable the connector instead", code="has_history"
        )
    audit_record(
        organization=connector.organization,
        actor=actor,
        action="inventory.connector.delete",
        obj=connector,
        before=snapshot(connector),
    )
    Schedule.objects.filter(name=connector.schedule_name).delete()
    connector.delete()
