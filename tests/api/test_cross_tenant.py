"""The tenant wall, over every operation of the generated schema (no hand-kept endpoint list) and every role.

Tenant A's tokens send tenant B's identifiers where an API takes one — in the path and in id-taking query filters —
and the same request with an identifier that exists nowhere. The two answers must be identical (status and body, the
echoed value aside): no oracle telling "exists elsewhere" from "does not exist". No answer to A may carry any of B's
identifiers, and B's rows stay unchanged.
"""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Max, UUIDField
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from rest_framework.test import APIClient

from apps.tenancy.models import Organization
from tests.api.support import (
    PLACEHOLDER,
    ROLES,
    openapi_document,
    operations,
    path_values,
    view_class_for,
    view_model_and_lookup,
)

# (METHOD, path, role) → reason. Each is a strict xfail: it turns red the day the fault is fixed; then delete it.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}

DOCUMENT = openapi_document()
MISSING_SLUG = "no-such-object"


def _param(method, path, role):
    marks = []
    if (method, path, role) in KNOWN_FAILURES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[(method, path, role)]))
    return pytest.param(method, path, role, marks=marks, id=f"{method} {path} {role}")


def _query_names(method: str, path: str) -> list[str]:
    operation = DOCUMENT["paths"][path][method.lower()]
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def filter_target(path: str, name: str):
    """``(model, attribute)`` a query parameter names a tenant object by, or ``None`` if it takes no id."""
    if name == "organization":
        return Organization, "slug"
    filterset = getattr(view_class_for(path), "filterset_class", None)
    declared = filterset.base_filters.get(name) if filterset else None
    if declared is None or getattr(declared, "method", None):
        return None
    model = filterset._meta.model
    parts = declared.field_name.split("__")
    if isinstance(declared, (ModelChoiceFilter, ModelMultipleChoiceFilter)):
        parts = [*parts, declared.extra.get("to_field_name") or "pk"]
    if len(parts) < 2:
        return None
    try:
        for part in parts[:-1]:
            model = model._meta.get_field(part).related_model
    except FieldDoesNotExist:
        return None
    return (model, parts[-1]) if model is not None else None


def _rows_of(model, organization):
    if model is Organization:
        return model.objects.filter(pk=organization.pk)
    return model.objects.filter(organization=organization)


def _value_only_in(model, attribute, theirs, ours):
    """A value of ``attribute`` some object of ``theirs`` has and no object of ``ours`` has."""
    for obj in _rows_of(model, theirs.organization).order_by("pk"):
        value = getattr(obj, attribute)
        if not _rows_of(model, ours.organization).filter(**{attribute: value}).exists():
            return value
    raise AssertionError(f"seed a {model.__name__} whose {attribute} exists in tenant B only")


def _missing_value(model, attribute):
    if attribute in ("pk", "id") and isinstance(model._meta.pk, UUIDField):
        return uuid.uuid4()
    if attribute in ("pk", "id"):
        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 100_000
    return MISSING_SLUG


PATH_CASES = [
    _param(method, path, role)
    for method, path in operations(DOCUMENT)
    if PLACEHOLDER.search(path) and view_model_and_lookup(path)
    for role in ROLES
]
FILTER_CASES = [
    _param(method, path, role)
    for method, path in operations(DOCUMENT)
    if method == "GET" and any(filter_target(path, name) for name in _query_names(method, path))
    for role in ROLES
]
GET_CASES = [_param(method, path, role) for method, path in operations(DOCUMENT) if method == "GET" for role in ROLES]


def _own_url(method: str, path: str, tenant) -> str:
    """``path`` naming the tenant's own object, or the first documented value of a path parameter (a report kind)."""
    own = path_values(path, tenant.organization) or {}
    declared = DOCUMENT["paths"][path][method.lower()].get("parameters", [])
    for p in declared:
        if p["in"] == "path" and p["name"] not in own and p.get("schema", {}).get("enum"):
            own[p["name"]] = str(p["schema"]["enum"][0])
    return PLACEHOLDER.sub(lambda m: own.get(m.group(1), "0"), path)


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _send(client, method: str, url: str, query: dict | None = None):
    if method == "GET":
        return client.get(url, query or {})
    if method == "DELETE":
        return client.delete(url)
    return getattr(client, method.lower())(url, {}, format="json")


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace")


def _answer(response, value) -> tuple[int, str]:
    return response.status_code, _text(response).replace(str(value), "<value>")


def _markers(tenant) -> set[str]:
    """Strings that identify tenant B: its slug (in usernames, tokens, projects, environments, sites), its assets'
    and images' names, and the slug of its own image family."""
    from apps.images.models import ImageFamily

    slug = tenant.organization.slug
    markers = {slug, f"i-{slug[:2]}-", f"ami-0{slug[:2]}", f"fleet-{slug[:2]}"}
    theirs = set(ImageFamily.objects.filter(organization=tenant.organization).values_list("slug", flat=True))
    return markers | (
        theirs - set(ImageFamily.objects.exclude(organization=tenant.organization).values_list("slug", flat=True))
    )


def _assert_no_leak(response, markers, what: str, sent=None):
    text = _text(response)
    text = (text.replace(str(sent), "<value>") if sent is not None else text).lower()  # an echo is no leak
    leaked = sorted(m for m in markers if m.lower() in text)
    assert not leaked, f"{what} answered {response.status_code} with tenant B's identifiers {leaked}"


@pytest.fixture
def tenants(seeded, db):
    (alpha, alpha_tokens), (bravo, _) = seeded["alpha"], seeded["bravo"]
    return alpha, alpha_tokens, bravo


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role"), PATH_CASES)
def test_other_tenant_id_in_path_answers_as_a_missing_id(method, path, role, tenants):
    alpha, tokens, bravo = tenants
    model, lookup = view_model_and_lookup(path)
    theirs = path_values(path, bravo.organization)
    assert theirs, f"seed tenant B with a {model.__name__} so {path} is tested"
    name, their_value = next(iter(theirs.items()))
    missing = _missing_value(model, lookup)
    row = _rows_of(model, bravo.organization).filter(**{lookup: their_value})
    before = list(row.values())
    client = _client(tokens[role])

    other = _send(client, method, path.replace(f"{{{name}}}", str(their_value)))
    absent = _send(client, method, path.replace(f"{{{name}}}", str(missing)))

    assert 400 <= other.status_code < 500, f"{method} {path} with B's id answered {other.status_code}"
    if method == "GET":
        assert other.status_code in (403, 404)
    assert _answer(other, their_value) == _answer(absent, missing), "B's id is told apart from a missing id"
    _assert_no_leak(other, _markers(bravo), f"{method} {path}", sent=their_value)
    assert list(row.values()) == before, "B's object changed"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role"), FILTER_CASES)
def test_other_tenant_id_in_filters_answers_as_a_missing_id(method, path, role, tenants):
    alpha, tokens, bravo = tenants
    client = _client(tokens[role])
    url = _own_url(method, path, alpha)
    markers = _markers(bravo)
    differing = []
    for name in _query_names(method, path):
        target = filter_target(path, name)
        if target is None:
            continue
        model, attribute = target
        their_value = _value_only_in(model, attribute, bravo, alpha)
        missing = _missing_value(model, attribute)
        other = _send(client, method, url, {name: their_value})
        absent = _send(client, method, url, {name: missing})
        _assert_no_leak(other, markers, f"{method} {path}?{name}=", sent=their_value)
        if _answer(other, their_value) != _answer(absent, missing):
            differing.append(f"?{name}= {other.status_code} vs {absent.status_code}")
    assert not differing, f"B's ids are told apart from missing ids: {differing}"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role"), GET_CASES)
def test_answers_to_tenant_a_hold_no_tenant_b_identifier(method, path, role, tenants):
    alpha, tokens, bravo = tenants
    url = _own_url(method, path, alpha)
    response = _send(
        _client(tokens[role]), method, url, {"limit": 1000} if "limit" in _query_names(method, path) else {}
    )
    assert response.status_code < 500
    _assert_no_leak(response, _markers(bravo), f"{method} {url}")
