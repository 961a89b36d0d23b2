"""API tokens for CI service accounts: shown once, stored as SHA-256, with expiry and revocation.

A token acts through its own service user, which holds an ordinary membership with the token's role, so the API goes
through exactly the same ``restrict`` door as a person would.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qlrf.errors import field_error

from ..models import ApiToken, Membership
from .audit import audit_record, snapshot
from .memberships import _sync_permissions, _validate_role
from .permissions import ensure_permitted

TOKEN_PREFIX = "qlrf"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _parse(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1], raw


@transaction.atomic
def token_create(*, actor, organization, name: str, role: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token and its service account; return the token row and the raw token (never stored)."""
    ensure_permitted(actor, scope="tokens", action="add", organization=organization)
    _validate_role(role)
    if not name or len(name) > 100:
        raise field_error("name", "a token needs a name of at most 100 characters", "invalid_name")
    if ApiToken.objects.filter(organization=organization, name=name).exists():
        raise field_error("name", f"a token named {name!r} already exists", "duplicate_name")
    if expires_at is None:
        expires_at = timezone.now() + datetime.timedelta(days=settings.QLRF_TOKEN_DEFAULT_DAYS)
    elif expires_at <= timezone.now():
        raise field_error("expires_at", "the expiry must be in the future", "expired")
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    user_model = get_user_model()
    service_user = user_model(username=f"svc-{prefix}", first_name=f"token {name}"[:150])
    service_user.set_unusable_password()
    service_user.save()
    token = ApiToken.objects.create(
        organization=organization,
        name=name,
        role=role,
        service_user=service_user,
        key_prefix=prefix,
        key_hash=_hash(raw),
        created_by=actor,
        expires_at=expires_at,
    )
    Membership.objects.create(organization=organization, user=service_user, role=role)
    _sync_permissions(service_user, organization)
    audit_record(
        organization=organization, actor=actor, action="tenancy.apitoken.create", obj=token, after=snapshot(token)
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once; its service account is deactivated. Revoking twice is refused."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    ensure_permitted(actor, scope="tokens", action="delete", organization=token.organization)
    if token.revoked_at is not None:
        raise ValidationError("the token is already revoked", code="already_revoked")
    before = snapshot(token)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    token.service_user.is_active = False
    token.service_user.save(update_fields=["is_active"])
    audit_record(
        organization=token.organization,
        actor=actor,
        action="tenancy.apitoken.revoke",
        obj=token,
        before=before,
        after=snapshot(token),
    )
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token matching ``raw``, or None (unknown, malformed, revoked or expired)."""
    parsed = _parse(raw)
    if parsed is None:
        return None
    prefix, _ = parsed
    token = ApiToken.objects.select_related("service_user", "organization").filter(key_prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(raw)):
        return None
    if not token.is_usable() or not token.service_user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
