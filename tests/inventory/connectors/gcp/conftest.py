"""A local Compute Engine REST API for the GCP connector tests: the real compute_v1 clients talk to it over HTTP.

The fake answers with the Compute v1 JSON wire format (list pages with ``nextPageToken``, aggregated lists whose
empty scopes carry the API's ``NO_RESULTS_ON_PAGE`` warning, Google error bodies) and can inject faults per path.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.inventory.connectors.gcp import GcpConnector

BASE = "https://www.googleapis.com/compute/v1/"
API_PREFIX = "/compute/v1/projects/"
FLIGHTS = Path(__file__).resolve().parents[4] / "fixtures" / "external" / "gcp"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
SERVICE_ACCOUNT = "qlrf-scanner@acme-prod.iam.gserviceaccount.com"
REASONS = {401: "required", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 503: "backendError"}


def flight_body(name: str) -> dict[str, Any]:
    """The recorded Compute REST body of a cloud-custodian flight file."""
    return json.loads((FLIGHTS / name).read_text(encoding="utf-8"))["body"]


def google_error(status: int, message: str) -> dict[str, Any]:
    """A Compute API error body, as the real API sends it."""
    reason = REASONS.get(status, "unknown")
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


@dataclasses.dataclass
class Fault:
    """Answer requests whose path matches ``pattern`` with ``status``/``body`` (``times`` None: forever)."""

    pattern: str
    status: int
    body: str
    times: int | None = None


def _scope_of(item: dict[str, Any]) -> str:
    location = item.get("zone") or item.get("region") or ""
    parts = location.rstrip("/").split("/")
    return f"{parts[-2]}/{parts[-1]}"


class FakeCompute:
    """Per-project Compute resources served page by page; every request is logged as (method, path, query)."""

    def __init__(self, page_size: int = 2):
        self.page_size = page_size
        self.images: dict[str, list[dict]] = defaultdict(list)
        self.instances: dict[str, list[dict]] = defaultdict(list)
        self.disks: dict[str, list[dict]] = defaultdict(list)
        self.extra_disks: dict[str, dict] = {}  # "project/zone/name" → disk served by disks.get only
        self.igms: dict[str, list[dict]] = defaultdict(list)
        self.managed: dict[str, list[dict]] = {}  # MIG selfLink (canonical, no host) → managed instances
        self.templates: dict[str, list[dict]] = defaultdict(list)  # global templates listed per project
        self.hidden_templates: dict[str, dict] = {}  # canonical ref → template served by get only
        self.scopes: dict[str, list[str]] = defaultdict(list)  # extra aggregated scopes (answer: no results)
        self.warnings: dict[tuple[str, str], dict] = {}  # (project, scope) → a warning other than no-results
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.auth: list[str] = []  # the Authorization header of each logged request

    # ---- resources in the real Compute v1 JSON shape --------------------------------------------------------
    def _resource(self, kind: str, path: str, name: str, **fields: Any) -> dict[str, Any]:
        self._ids = getattr(self, "_ids", 7000000000000000000) + 1
        head = {"kind": f"compute#{kind}", "id": str(self._ids), "creationTimestamp": "2024-01-05T08:00:00.000-08:00"}
        return {**head, "name": name, "selfLink": f"{BASE}{path}/{name}", **fields}

    def add_image(
        self,
        project: str,
        name: str,
        *,
        created: str,
        family: str = "",
        status: str = "READY",
        deprecated: str = "",
        labels: dict | None = None,
    ) -> dict:
        """An images.list item (``deprecated`` is the DeprecationStatus state, e.g. DEPRECATED)."""
        size = {"sourceType": "RAW", "archiveSizeBytes": "1262125632", "diskSizeGb": "10", "storageLocations": ["us"]}
        image = self._resource("image", f"projects/{project}/global/images", name, status=status, **size)
        image.update(creationTimestamp=created, architecture="X86_64", labelFingerprint="42WmSpB8rSM=")
        image.update({"family": family} if family else {}, **({"labels": labels} if labels else {}))
        image.update({"deprecated": {"state": deprecated}} if deprecated else {})
        self.images[project].append(image)
        return image

    def add_disk(
        self,
        project: str,
        zone: str,
        name: str,
        *,
        source_image: str = "",
        source_image_id: str = "",
        source_snapshot: str = "",
        listed: bool = True,
    ) -> dict:
        """A persistent disk; ``listed=False`` serves it through disks.get only (created after the listing)."""
        where = f"{BASE}projects/{project}/zones/{zone}"
        disk = self._resource("disk", f"projects/{project}/zones/{zone}/disks", name, sizeGb="10", status="READY")
        disk.update(zone=where, type=f"{where}/diskTypes/pd-balanced", physicalBlockSizeBytes="4096")
        if source_image:
            disk.update(sourceImage=source_image, sourceImageId=source_image_id or str(self._ids + 500))
        if source_snapshot:
            disk.update(sourceSnapshot=source_snapshot, sourceSnapshotId=str(self._ids + 900))
        if listed:
            self.disks[project].append(disk)
        else:
            self.extra_disks[f"{project}/{zone}/{name}"] = disk
        return disk

    def add_instance(
        self,
        project: str,
        zone: str,
        name: str,
        *,
        status: str = "RUNNING",
        disk: dict | None = None,
        labels: dict | None = None,
    ) -> dict:
        """An instances.aggregatedList item whose boot disk is ``disk`` (its selfLink as the attached source)."""
        where = f"{BASE}projects/{project}/zones/{zone}"
        nic = {
            "kind": "compute#networkInterface",
            "name": "nic0",
            "network": f"{BASE}projects/{project}/global/networks/default",
        }
        instance = self._resource("instance", f"projects/{project}/zones/{zone}/instances", name, status=status)
        instance.update(zone=where, machineType=f"{where}/machineTypes/e2-medium", networkInterfaces=[nic])
        instance.update(cpuPlatform="Intel Broadwell", fingerprint="9UJZ0Dbu0eA=", labelFingerprint="42WmSpB8rSM=")
        if disk is not None:
            attached = {"kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE", "index": 0}
            attached.update(source=disk["selfLink"], deviceName=disk["name"], boot=True, autoDelete=True)
            instance["disks"] = [attached]
        instance.update({"labels": labels} if labels else {})
        self.instances[project].append(instance)
        return instance

    def add_template(self, project: str, name: str, source_image: str, *, region: str = "") -> dict:
        """An instance template whose boot disk starts from ``source_image``; regional ones are served by get only."""
        location = f"regions/{region}" if region else "global"
        template = self._resource("instanceTemplate", f"projects/{project}/{location}/instanceTemplates", name)
        params = {"sourceImage": source_image, "diskSizeGb": "10", "diskType": "pd-balanced"}
        boot = {"kind": "compute#attachedDisk", "type": "PERSISTENT", "boot": True, "initializeParams": params}
        template.update(description="", properties={"machineType": "e2-medium", "disks": [boot]})
        if region:
            template["region"] = f"{BASE}projects/{project}/regions/{region}"
            self.hidden_templates[template["selfLink"].replace(BASE, "")] = template
        else:
            self.templates[project].append(template)
        return template

    def add_mig(
        self,
        project: str,
        name: str,
        template: str,
        members: list[dict],
        *,
        zone: str = "",
        region: str = "",
        member_templates: dict[str, str] | None = None,
    ) -> dict:
        """A zonal or regional MIG of ``members``; ``member_templates`` maps a member name → its version template."""
        location = f"zones/{zone}" if zone else f"regions/{region}"
        mig = self._resource("instanceGroupManager", f"projects/{project}/{location}/instanceGroupManagers", name)
        versions = [{"instanceTemplate": template, "targetSize": {"calculated": len(members)}}]
        mig.update(instanceTemplate=template, versions=versions, baseInstanceName=name, targetSize=len(members))
        mig.update(instanceGroup=f"{BASE}projects/{project}/{location}/instanceGroups/{name}")
        mig.update(status={"isStable": True, "versionTarget": {"isReached": True}}, fingerprint="xrW789CR8Ck=")
        mig["zone" if zone else "region"] = f"{BASE}projects/{project}/{location}"
        self.igms[project].append(mig)
        self.set_members(mig, members, member_templates or {})
        return mig

    def set_members(self, mig: dict, members: list[dict], member_templates: dict[str, str] | None = None) -> None:
        """The listManagedInstances answer of ``mig``."""
        templates = member_templates or {}
        rows = []
        for member in members:
            version = {"instanceTemplate": templates.get(member["name"], mig["instanceTemplate"])}
            row = {"instance": member["selfLink"], "id": member["id"], "name": member["name"], "version": version}
            rows.append({**row, "instanceStatus": member["status"], "currentAction": "NONE"})
        self.managed[mig["selfLink"].replace(BASE, "")] = rows

    # ---- fault injection -------------------------------------------------------------------------------------
    def fail(self, pattern: str, status: int, message: str = "", *, times: int | None = None) -> None:
        """Answer requests whose ``path?query`` matches with a Google error body (``times`` None: for ever)."""
        body = json.dumps(google_error(status, message or f"HTTP {status}"))
        self.faults.append(Fault(pattern, status, body, times))

    def respond_raw(self, pattern: str, body: str, *, times: int | None = None) -> None:
        """Answer matching paths with HTTP 200 and exactly ``body`` (a recorded flight, or truncated JSON)."""
        self.faults.append(Fault(pattern, 200, body, times))

    def _fault_for(self, target: str) -> Fault | None:
        for fault in self.faults:
            if re.search(fault.pattern, target) and (fault.times is None or fault.times > 0):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def count(self, pattern: str) -> int:
        """How many logged requests had a path matching ``pattern``."""
        return sum(1 for _, path, _ in self.log if re.search(pattern, path))

    # ---- HTTP entry point --------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        query = {key: request.args[key] for key in request.args}
        self.log.append((request.method, request.path, query))
        self.auth.append(request.headers.get("Authorization", ""))
        fault = self._fault_for(f"{request.path}?{request.query_string.decode()}")
        if fault is not None:
            return Response(fault.body, status=fault.status, content_type="application/json; charset=UTF-8")
        if not request.path.startswith(API_PREFIX):
            return self._json(google_error(404, f"unknown path {request.path}"), 404)
        rest = request.path[len(API_PREFIX) :]
        for pattern, method, route in self._routes():
            match = re.fullmatch(pattern, rest)
            if match and request.method == method:
                status, body = route(query, **match.groupdict())
                return self._json(body, status)
        return self._json(google_error(404, f"The resource '{request.path}' was not found"), 404)

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, dict]]]]:
        return [
            (r"(?P<p>[^/]+)/global/images", "GET", self._list_images),
            (r"(?P<p>[^/]+)/aggregated/instances", "GET", self._agg("instances", "instance")),
            (r"(?P<p>[^/]+)/aggregated/instanceGroupManagers", "GET", self._agg("instanceGroupManagers", "igm")),
            (r"(?P<p>[^/]+)/aggregated/disks", "GET", self._agg("disks", "disk")),
            (
                r"(?P<p>[^/]+)/(?P<loc>(?:zones|regions)/[^/]+)/instanceGroupManagers/(?P<n>[^/]+)/listManagedInstances",
                "POST",
                self._list_managed,
            ),
            (r"(?P<p>[^/]+)/global/instanceTemplates", "GET", self._list_templates),
            (r"(?P<p>[^/]+)/(?P<loc>global|regions/[^/]+)/instanceTemplates/(?P<n>[^/]+)", "GET", self._get_template),
            (r"(?P<p>[^/]+)/zones/(?P<z>[^/]+)/disks/(?P<n>[^/]+)", "GET", self._get_disk),
        ]

    @staticmethod
    def _json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8")

    # ---- paging ------------------------------------------------------------------------------------------------
    def _page(self, items: list, query: dict[str, str]) -> tuple[list, str]:
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or self.page_size), self.page_size)
        end = start + size
        return items[start:end], (str(end) if end < len(items) else "")

    def _list(self, kind: str, list_id: str, field: str, items: list, query: dict[str, str]) -> dict:
        page, token = self._page(items, query)
        body: dict[str, Any] = {"kind": kind, "id": list_id, "selfLink": BASE + list_id}
        if page:
            body[field] = page
        if token:
            body["nextPageToken"] = token
        return body

    def _list_images(self, query: dict[str, str], p: str) -> tuple[int, dict]:
        items = self.images[p]
        id_filter = re.fullmatch(r"id\s*=\s*(\d+)", query.get("filter", "").strip())
        if id_filter:
            items = [image for image in items if image["id"] == id_filter[1]]
        return 200, self._list("compute#imageList", f"projects/{p}/global/images", "items", items, query)

    def _agg(self, field: str, kind: str) -> Callable[..., tuple[int, dict]]:
        store = {"instances": self.instances, "instanceGroupManagers": self.igms, "disks": self.disks}[field]

        def route(query: dict[str, str], p: str) -> tuple[int, dict]:
            page, token = self._page(store[p], query)
            scopes = sorted({*self.scopes[p], *(_scope_of(item) for item in store[p])})
            items: dict[str, dict] = {}
            for scope in scopes:
                on_page = [item for item in page if _scope_of(item) == scope]
                if (p, scope) in self.warnings:
                    items[scope] = {"warning": self.warnings[(p, scope)]}
                elif on_page:
                    items[scope] = {field: on_page}
                else:
                    message = f"There are no results for scope '{scope}' on this page."
                    data = [{"key": "scope", "value": scope}]
                    items[scope] = {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": message, "data": data}}
            list_id = f"projects/{p}/aggregated/{field}"
            body = {"kind": f"compute#{kind}AggregatedList", "id": list_id, "items": items, "selfLink": BASE + list_id}
            if token:
                body["nextPageToken"] = token
            return 200, body

        return route

    def _list_managed(self, query: dict[str, str], p: str, loc: str, n: str) -> tuple[int, dict]:
        key = f"projects/{p}/{loc}/instanceGroupManagers/{n}"
        if key not in self.managed:
            return 404, google_error(404, f"The resource '{key}' was not found")
        page, token = self._page(self.managed[key], query)
        body: dict[str, Any] = {"managedInstances": page} if page else {}
        if token:
            body["nextPageToken"] = token
        return 200, body

    def _list_templates(self, query: dict[str, str], p: str) -> tuple[int, dict]:
        list_id = f"projects/{p}/global/instanceTemplates"
        return 200, self._list("compute#instanceTemplateList", list_id, "items", self.templates[p], query)

    def _get_template(self, query: dict[str, str], p: str, loc: str, n: str) -> tuple[int, dict]:
        key = f"projects/{p}/{loc}/instanceTemplates/{n}"
        listed = {t["selfLink"].replace(BASE, ""): t for t in self.templates[p]}
        found = self.hidden_templates.get(key) or listed.get(key)
        return (200, found) if found else (404, google_error(404, f"The resource '{key}' was not found"))

    def _get_disk(self, query: dict[str, str], p: str, z: str, n: str) -> tuple[int, dict]:
        found = self.extra_disks.get(f"{p}/{z}/{n}")
        missing = google_error(404, f"The resource 'projects/{p}/zones/{z}/disks/{n}' was not found")
        return (200, found) if found else (404, missing)


@pytest.fixture(scope="session")
def compute_server() -> Iterator[HTTPServer]:
    """One HTTP server on 127.0.0.1 (an ephemeral port) for the session; each test installs its own fake."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def compute(compute_server: HTTPServer) -> Iterator[FakeCompute]:
    """A fresh fake Compute API answering every request to the session's server during this test."""
    fake = FakeCompute()
    compute_server.clear()
    compute_server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    fake.endpoint = f"http://127.0.0.1:{compute_server.port}"  # type: ignore[attr-defined]
    yield fake
    compute_server.clear()


@pytest.fixture
def make_connector(compute: FakeCompute) -> Callable[..., GcpConnector]:
    """Build a GcpConnector against the fake with anonymous credentials and tiny timeouts/retry deadline."""

    def build(projects: list[str], *, secret: str | None = None, anonymous: bool = True, **config: Any) -> GcpConnector:
        full = {"projects": projects, "api_endpoint": compute.endpoint, "timeout": 5, "retry_deadline": 0.5, **config}
        credentials = AnonymousCredentials() if anonymous else None
        return GcpConnector(full, secret, credentials=credentials)

    return build


@pytest.fixture(name="flight_body")
def flight_body_fixture() -> Callable[[str], dict[str, Any]]:
    """Read the Compute REST body of a recorded flight under fixtures/external/gcp/."""
    return flight_body


@pytest.fixture(scope="session")
def service_account_key() -> rsa.RSAPrivateKey:
    """A throw-away RSA key for a service-account key JSON (generated once per test session)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account_secret(service_account_key: rsa.RSAPrivateKey, compute: FakeCompute) -> str:
    """A service-account key JSON of the shape the Cloud console downloads (token_uri on the fake, never used)."""
    pem = service_account_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "3f1c0ffee",
        "private_key": pem,
        "client_email": SERVICE_ACCOUNT,
        "client_id": "104424432345678901234",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": f"{compute.endpoint}/token",
    }
    return json.dumps(info)
