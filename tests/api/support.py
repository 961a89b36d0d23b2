"""What the schema-driven API tests share: the generated OpenAPI document, two tenants with data, role tokens, and
the real object behind each path parameter (found through the URL resolver, so no endpoint is listed by hand)."""

from __future__ import annotations

import json
import re

from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from apps.compliance.services.gate import gate_check
from apps.tenancy.choices import RoleChoices
from apps.tenancy.models import Organization
from apps.tenancy.services import project_create
from apps.tenancy.services.tokens import token_create
from tests.conftest import make_tenant
from tests.portal.fleet import build_fleet

ROLES = RoleChoices.values
METHODS = ("get", "post", "put", "patch", "delete")
PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def openapi_document() -> dict:
    """The schema exactly as ``/api/schema/`` serves it (JSON types only)."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def operations(document: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item if method in METHODS]


def seeded_tenant(slug: str):
    """A tenant with a user per role, a fleet (registry, channels, assets, a connector, a scan), a project, a gate
    decision, and an API token per role; returns ``(tenant, {role: raw token})``."""
    tenant = make_tenant(slug)
    fleet = build_fleet(tenant, slug[:2])
    project_create(actor=None, organization=tenant.organization, name=f"Project {slug}", slug=f"proj-{slug}")
    gate_check(actor=None, version=fleet["versions"][1], environment=fleet["envs"]["prod"])
    tokens = {
        role: token_create(actor=None, organization=tenant.organization, name=f"{slug}-{role}", role=role)[1]
        for role in ROLES
    }
    return tenant, tokens


def _view_model_and_lookup(path: str):
    """The model and lookup field of the view serving ``path`` (a detail route), or ``None`` if it has none."""
    try:
        match = resolve(PLACEHOLDER.sub("1", path))
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is None:
        return None
    return queryset.model, getattr(view_class, "lookup_field", "pk") or "pk"


def path_values(path: str, organization: Organization) -> dict | None:
    """Path parameters naming a real object of ``organization`` at ``path``; ``None`` if the path takes no id of a
    tenant object (e.g. ``/reports/{kind}``) or the organisation has no such object."""
    names = PLACEHOLDER.findall(path)
    if not names:
        return None
    found = _view_model_and_lookup(path)
    if found is None:
        return None
    model, lookup = found
    if model is Organization:
        rows = model.objects.filter(pk=organization.pk)
    else:
        rows = model.objects.filter(organization=organization)
    obj = rows.order_by("pk").first()
    if obj is None:
        return None
    return {names[0]: str(getattr(obj, lookup))}
