"""Hostile bodies on every JSON and upload endpoint of the schema (not a hand-kept list): oversize, deep nesting,
non-UTF-8, NUL characters, wrong content types, a billion laughs, a deeply nested SBOM. Each gets a JSON 4xx with a
stable code, writes no row and leaves no file without its row; a body 100× a limit is refused without being read.
"""

from __future__ import annotations

import io
import json
import os
import tracemalloc

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from apps.compliance.models import Upload
from apps.events.models import OutboxEvent
from apps.tenancy.models import AuditEvent
from tests.api.support import PLACEHOLDER, openapi_document, path_values

pytestmark = pytest.mark.django_db

DOCUMENT = openapi_document()


def _json_operations() -> list[tuple[str, str]]:
    """Every POST/PATCH whose request body the schema describes as JSON."""
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method in ("post", "patch"):
            content = item.get(method, {}).get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path))
    return sorted(found)


def _upload_operations() -> list[str]:
    """Every POST taking a document as its body or as a multipart file."""
    return sorted(
        path
        for path, item in DOCUMENT["paths"].items()
        if "multipart/form-data" in item.get("post", {}).get("requestBody", {}).get("content", {})
    )


JSON_OPERATIONS = _json_operations()
UPLOAD_OPERATIONS = _upload_operations()


def _url(path: str, organization) -> str:
    values = path_values(path, organization)
    if values is None and path.startswith("/api/v1/images/{id}/"):  # document views: an image version of the caller
        values = {"id": str(organization.image_versions.order_by("pk").first().pk)}
    return PLACEHOLDER.sub(lambda m: (values or {}).get(m.group(1), "1"), path)


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _state() -> tuple[int, int, int, int]:
    files = sum(len(names) for _, _, names in os.walk(settings.MEDIA_ROOT)) if os.path.isdir(settings.MEDIA_ROOT) else 0
    return AuditEvent.objects.count(), OutboxEvent.objects.count(), Upload.objects.count(), files


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


def test_the_schema_offers_json_and_upload_operations_to_try():
    assert len(JSON_OPERATIONS) >= 20 and len(UPLOAD_OPERATIONS) >= 3


HOSTILE_JSON = {
    "nested 10^5 deep": ("[" * 100_000 + "]" * 100_000, 400, "nesting_too_deep"),
    "nested objects": ('{"a":' * 100_000 + "1" + "}" * 100_000, 400, "nesting_too_deep"),
    "not UTF-8": (b'{"name": "\xff\xfe"}', 400, "invalid_encoding"),
    "NUL escaped": ('{"name": "a\\u0000b", "slug": "x"}', 400, "nul_character"),
    "NUL raw": (b'{"name": "a\x00b"}', 400, "nul_character"),
    "truncated": ('{"name": "abc', 400, "parse_error"),
    "NaN": ('{"grace_days": NaN}', 400, "parse_error"),
}


BODY_OPERATIONS = [(m, p) for m, p in JSON_OPERATIONS if p not in UPLOAD_OPERATIONS]  # uploads take documents


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_a_hostile_json_body_is_a_json_400_and_changes_nothing(seeded, method, path, case):
    tenant, tokens = seeded["alpha"]
    body, status, code = HOSTILE_JSON[case]
    before = _state()
    response = _client(tokens["admin"]).generic(method, _url(path, tenant.organization), body, "application/json")
    if response.status_code == 404 and PLACEHOLDER.search(path) and path_values(path, tenant.organization) is None:
        pytest.fail(f"no seeded object for {path}")
    _refused(response, status, code)
    assert _state() == before


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_a_wrong_content_type_is_415(seeded, method, path):
    tenant, tokens = seeded["alpha"]
    before = _state()
    response = _client(tokens["admin"]).generic(
        method, _url(path, tenant.organization), "<a/>", "application/x-unknown"
    )
    _refused(response, 415, "unsupported_media_type")
    assert _state() == before


class Endless(io.RawIOBase):
    """A request body of ``size`` bytes made on demand (never held whole), counting what the server read."""

    def __init__(self, size: int, fill: bytes = b"x"):
        self.left, self.fill, self.read_bytes = size, fill, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = self.fill * n
        self.left -= n
        self.read_bytes += n
        return n


def _wsgi(path: str, token: str, body: Endless, size: int | None, content_type: str):
    """Call the WSGI app with ``body`` streamed; ``size`` None: no Content-Length (as chunked under gunicorn)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BufferedReader(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.input_terminated": True,
        "CONTENT_TYPE": content_type,
        "HTTP_AUTHORIZATION": f"Bearer {token}",
    }
    if size is not None:
        environ["CONTENT_LENGTH"] = str(size)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    payload = b"".join(WSGIHandler()(environ, start_response))
    return captured["status"], captured["headers"], payload


LIMITS = {
    "/api/v1/contracts/validate": ("application/yaml", lambda: 256 * 1024),
    "/api/v1/gate/check": ("application/json", lambda: settings.QLRF_API_JSON_MAX_BYTES),
    "/api/v1/environments": ("application/json", lambda: settings.QLRF_API_JSON_MAX_BYTES),
}


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_a_body_100_times_the_limit_is_413_and_never_held(seeded, path, keep_connection):
    tenant, tokens = seeded["alpha"]
    content_type, limit = LIMITS[path][0], LIMITS[path][1]()
    body = Endless(100 * limit)
    before = _state()
    tracemalloc.start()
    try:
        status, headers, payload = _wsgi(path, tokens["viewer"], body, 100 * limit, content_type)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413 and headers["Content-Type"].startswith("application/json")
    assert json.loads(payload)["code"] == "too_large"
    assert body.read_bytes <= limit + 256 * 1024  # read at most the limit (plus one buffer), never the rest
    assert peak < limit + 2 * 1024 * 1024  # memory grows by about the limit at most, not by the body
    assert _state() == before


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_a_body_without_content_length_is_not_read_at_all(seeded, path, keep_connection):
    """Gunicorn passes a chunked body without CONTENT_LENGTH; Django reads none of it (its LimitedStream is 0 long),
    so an endless chunked body costs nothing — the request is answered as if it had no body."""
    tenant, tokens = seeded["alpha"]
    body = Endless(10**12)
    status, headers, payload = _wsgi(path, tokens["viewer"], body, None, LIMITS[path][0])
    assert 400 <= status < 500 and headers["Content-Type"].startswith("application/json")
    assert body.read_bytes == 0


@pytest.mark.parametrize("path", UPLOAD_OPERATIONS)
def test_an_upload_over_the_limit_is_413_without_being_read(seeded, path, settings, keep_connection):
    settings.QLRF_UPLOAD_MAX_BYTES = 1024 * 1024
    tenant, tokens = seeded["alpha"]
    body = Endless(100 * settings.QLRF_UPLOAD_MAX_BYTES)
    before = _state()
    url = _url(path, tenant.organization)
    status, headers, payload = _wsgi(url, tokens["admin"], body, 100 * 1024 * 1024, "application/json")
    assert status == 413 and json.loads(payload)["code"] == "too_large"
    assert body.read_bytes <= settings.QLRF_UPLOAD_MAX_BYTES + 256 * 1024
    assert _state()[3] == before[3]  # no stored file


BILLION_LAUGHS_YAML = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)
BILLION_LAUGHS_XML = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + ']><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library">'
    "<name>&lol9;</name></component></components></bom>"
)
DEEP_XML = (
    '<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
    + '<component type="library"><name>a</name><components>' * 50_000
    + "</components></component>" * 50_000
    + "</components></bom>"
)
DEEP_JSON_SBOM = '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": ' + "[" * 100_000 + "]" * 100_000 + "}"


def test_a_billion_laughs_contract_is_refused_at_once(seeded):
    tenant, tokens = seeded["alpha"]
    response = _client(tokens["viewer"]).post(
        "/api/v1/contracts/validate", BILLION_LAUGHS_YAML, content_type="application/yaml"
    )
    assert response.status_code in (400, 422) and response.json()["code"] in ("invalid_contract", "yaml_alias")
    assert "alias" in json.dumps(response.json())


@pytest.mark.parametrize(
    ("name", "document", "content_type"),
    [
        ("billion laughs XML", BILLION_LAUGHS_XML, "application/xml"),
        ("SBOM XML nested 50k deep", DEEP_XML, "application/xml"),
        ("SBOM JSON nested 10^5 deep", DEEP_JSON_SBOM, "application/json"),
    ],
)
def test_a_hostile_sbom_is_a_4xx_and_leaves_no_file_without_its_row(
    seeded, name, document, content_type, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # only this test's files
    tenant, tokens = seeded["alpha"]
    version = tenant.organization.image_versions.order_by("pk").first()
    before_rows = Upload.objects.count()
    response = _client(tokens["admin"]).post(f"/api/v1/images/{version.pk}/sbom", document, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json") and response.json()["code"]
    rows = Upload.objects.count()
    assert rows - before_rows in (0, 1)  # a refusal may be recorded for the audit trail, with its file
    _assert_every_file_has_its_row()


def _assert_every_file_has_its_row() -> None:
    stored = {
        os.path.relpath(os.path.join(root, name), settings.MEDIA_ROOT)
        for root, _, names in os.walk(settings.MEDIA_ROOT)
        for name in names
    }
    named = set(Upload.objects.exclude(file="").values_list("file", flat=True))
    assert stored <= named, f"files without a row: {sorted(stored - named)}"


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
@pytest.mark.parametrize("path", UPLOAD_OPERATIONS)
def test_a_hostile_json_document_upload_is_refused_with_its_code_and_no_orphan_file(
    seeded, path, case, settings, tmp_path
):
    """Uploads answer a refused document with 422 and its code (the refusal is kept, with its file, for the audit
    trail); never a 5xx, never a file without its row."""
    settings.MEDIA_ROOT = str(tmp_path)
    tenant, tokens = seeded["alpha"]
    body = HOSTILE_JSON[case][0]
    response = _client(tokens["admin"]).post(_url(path, tenant.organization), body, content_type="application/json")
    assert response.status_code in (400, 413, 422), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json") and response.json()["code"]
    _assert_every_file_has_its_row()


def test_django_own_400_and_404_are_json_on_api_paths(seeded):
    tenant, tokens = seeded["alpha"]
    response = _client(tokens["viewer"]).get("/api/v1/no-such-endpoint")
    _refused(response, 404, "not_found")
    response = Client(HTTP_HOST="evil.example").get("/api/v1/drift")
    _refused(response, 400, "bad_request")
    portal = Client(HTTP_HOST="evil.example").get("/drift/")
    assert portal.status_code == 400 and not portal["Content-Type"].startswith("application/json")


def test_a_nul_in_a_form_body_is_refused_like_in_json(seeded):
    # %00 decodes to NUL, which PostgreSQL cannot store: refused by the form parser, not a 500 from the database
    tenant, tokens = seeded["alpha"]
    before = _state()
    response = _client(tokens["admin"]).post(
        "/api/v1/artifact-rules", "name=a%00b&kind=tags", content_type="application/x-www-form-urlencoded"
    )
    _refused(response, 400, "nul_character")
    assert _state() == before
