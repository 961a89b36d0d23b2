"""Local mode of ``rf`` (ADR 024): the client's commands through the API in-process, on the server, without a token.

The same views, serializers, permission checks and audit events answer as over HTTP, so both modes print the same.
The caller acts as a named account (``--as USER`` or ``QLRF_AS``: its roles apply) or, by default, as the operator
account ``rf-operator``: a superuser with no usable password (it cannot log in), whose writes the audit trail shows.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

from qlrf_client.errors import UsageError
from qlrf_client.transport import API, Api, Reply, decode

OPERATOR = "rf-operator"


class LocalTransport:
    """Calls the API views in-process as ``user``, through the whole middleware stack (like a real request)."""

    def __init__(self, user):
        from django.conf import settings
        from rest_framework.test import APIClient

        hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
        self.client = APIClient(HTTP_HOST=hosts[0] if hosts else "localhost")
        self.client.raise_request_exception = False  # a server error is the JSON answer, as over HTTP
        self.client.force_authenticate(user=user)

    def request(self, method, path, *, params=None, json_body=None, body=None, headers=None) -> Reply:
        import json

        url = f"{API}{path}" + (("&" if "?" in path else "?") + urlencode(params, doseq=True) if params else "")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items() if k != "Content-Type"}
        if json_body is not None:
            data, content_type = json.dumps(json_body), "application/json"
        else:
            data, content_type = body or b"", (headers or {}).get("Content-Type", "application/octet-stream")
        response = self.client.generic(method, url, data=data, content_type=content_type, **extra)
        return Reply(response.status_code, decode(response.content, response.get("Content-Type", "")),
                     dict(response.headers))  # fmt: skip


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qlrf.settings.development")
    import django

    django.setup()


def operator_account():
    """The ``rf-operator`` account local mode acts as by default (created once, without a usable password)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=OPERATOR, defaults={"is_superuser": True, "is_staff": False, "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _user(as_user: str | None):
    from django.contrib.auth import get_user_model

    name = as_user
    if not name:
        return operator_account()
    user = get_user_model().objects.filter(username=name, is_active=True).first()
    if user is None:
        raise UsageError(f"--as {name}: no active account of that name")
    return user


def _organization(user, organization: str | None) -> str | None:
    """A superuser sees every organisation: name one when there are several, as the API would ask."""
    from apps.tenancy.models import Organization

    if organization or not user.is_superuser:
        return organization
    slugs = list(Organization.objects.values_list("slug", flat=True)[:2])
    if len(slugs) != 1:
        raise UsageError("local mode sees several organizations: give --org SLUG (or QLRF_ORG)")
    return slugs[0]


def local_api(*, organization: str | None, as_user: str | None, progress=None) -> Api:
    """An ``Api`` over the in-process transport; database problems are one line (see ``qlrf.cli``)."""
    _setup()
    from qlrf.cli import _database_hint

    try:
        user = _user(as_user)
        organization = _organization(user, organization)
    except UsageError:
        raise
    except Exception as exc:  # a missing or unmigrated database is one readable line
        hint = _database_hint(exc)
        if hint is None:
            raise
        raise UsageError(hint, exit_code=1) from None
    return Api(LocalTransport(user), organization, progress=progress)
