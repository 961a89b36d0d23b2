"""A local HTTPS Azure Resource Manager that the real ComputeManagementClient talks to.

pytest-httpserver serves TLS with a self-signed certificate made here at test time; handlers answer with the real
ARM REST shapes (list envelopes ``{"value": [...], "nextLink": <absolute URL>}``, ``{"error": {...}}`` bodies).
Payloads start from the recorded x-ms-examples in ``fixtures/external/azure``.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import ssl
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from urllib3.exceptions import InsecureRequestWarning
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "external" / "azure"
TOKEN = "test-arm-token"
SUB_A = "00000000-0000-0000-0000-0000000000aa"
SUB_B = "00000000-0000-0000-0000-0000000000bb"


def recorded_body(name: str) -> dict[str, Any]:
    """Return ``responses["200"]["body"]`` of a recorded x-ms-example (a fresh copy each call)."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(data["responses"]["200"]["body"])


class FixedTokenCredential:
    """A TokenCredential (and SupportsTokenInfo) that always returns the same bearer token; no identity endpoint."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls += 1
        return AccessTokenInfo(TOKEN, int(time.time()) + 3600)


def make_self_signed(directory: Path, common_name: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a self-signed EC certificate for 127.0.0.1 and its key as PEM files; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(autouse=True)
def _quiet_unverified_tls() -> Iterator[None]:
    """The tests set connection_verify=False on purpose (self-signed server); urllib3 warns on every request."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        yield


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_self_signed(tmp_path_factory.mktemp("azure-tls"))


@pytest.fixture(scope="session")
def arm_server(tls_files: tuple[Path, Path]) -> Iterator[HTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


class ArmFake:
    """Registers ARM endpoints on the local server: paged lists, one-shot failures, and what was requested."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.base_url = f"https://127.0.0.1:{server.port}"

    def list(self, path: str, *pages: list[dict[str, Any]], status_only: list[dict[str, Any]] | None = None) -> None:
        """Serve ``pages`` at ``path``, chained by absolute nextLinks (``$skiptoken=<page>``)."""

        def handler(request: Request) -> Response:
            if status_only is not None and request.args.get("statusOnly") == "true":
                return self.json({"value": status_only})
            index = int(request.args.get("$skiptoken", "0"))
            body: dict[str, Any] = {"value": pages[index] if pages else []}
            if index + 1 < len(pages):
                body["nextLink"] = self.next_link(path, index + 1)
            return self.json(body)

        self.server.expect_request(path, method="GET").respond_with_handler(handler)

    def get(self, path: str, body: dict[str, Any]) -> None:
        """Serve one resource's GET at ``path``."""
        self.server.expect_request(path, method="GET").respond_with_handler(lambda request: self.json(body))

    def next_link(self, path: str, index: int, api_version: str = "2024-07-01") -> str:
        return f"{self.base_url}{path}?api-version={api_version}&$skiptoken={index}"

    def error(self, path: str, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        """Answer every request to ``path`` with an ARM error body."""
        body = {"error": {"code": code, "message": message}}
        self.server.expect_request(path).respond_with_json(body, status=status, headers=headers)

    def once(self, path: str, response: Response) -> None:
        """Answer the next request to ``path`` with ``response`` (before the permanent handlers)."""
        self.server.expect_oneshot_request(path).respond_with_response(response)

    def requests_to(self, path: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == path]

    @staticmethod
    def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


@pytest.fixture
def arm(arm_server: HTTPServer) -> Iterator[ArmFake]:
    arm_server.clear()
    yield ArmFake(arm_server)
    arm_server.clear()


@pytest.fixture
def recorded() -> Callable[[str], dict[str, Any]]:
    """``responses["200"]["body"]`` of a recorded x-ms-example in fixtures/external/azure."""
    return recorded_body


@pytest.fixture
def credential() -> FixedTokenCredential:
    return FixedTokenCredential()


@pytest.fixture
def make_connector(arm: ArmFake, credential: FixedTokenCredential) -> Callable[..., Any]:
    """Build an AzureConnector against the local server with tiny retry backoff (the schema's other defaults)."""
    from apps.inventory.connectors.azure import AzureConnector

    def build(**overrides: Any) -> AzureConnector:
        config = {
            "auth": "client_secret",
            "tenant_id": "11111111-1111-1111-1111-111111111111",
            "client_id": "22222222-2222-2222-2222-222222222222",
            "subscriptions": [SUB_A],
            "base_url": arm.base_url,
            "connection_verify": False,
            "connection_timeout": 5,
            "read_timeout": 5,
            "retry_total": 2,
            "retry_backoff_factor": 0.01,
        }
        config.update(overrides)
        return AzureConnector(config, secret="unused-secret", credential=credential)

    return build


# -- ARM payloads in the real REST shape ---------------------------------------------------------------------------
def arm_id(sub: str, rg: str, *segments: str) -> str:
    """``/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/<segments…>``."""
    return "/".join([f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute", *segments])


def status_list(power: str | None) -> list[dict[str, str]]:
    """instanceView.statuses as ARM reports them: provisioning state, then the power state."""
    statuses = [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"}]
    if power:
        statuses.append({"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"})
    return statuses


def scale_set(sub: str, rg: str, name: str, image_id: str, *, mode: str = "Uniform") -> dict[str, Any]:
    return {
        "id": arm_id(sub, rg, "virtualMachineScaleSets", name),
        "name": name,
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": "westeurope",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
        "properties": {
            "orchestrationMode": mode,
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {"storageProfile": {"imageReference": {"id": image_id}}},
            "provisioningState": "Succeeded",
            "uniqueId": f"uid-{name}",
        },
    }


def scale_set_vm(sub: str, rg: str, vmss: str, index: int, image_id: str, exact: str, power: str) -> dict[str, Any]:
    """A VMSS VM list item built from the recorded VirtualMachineScaleSetVM GET body."""
    body = recorded_body("VirtualMachineScaleSetVM_Get_WithUserData.json")
    body.pop("resources")
    body["properties"].pop("userData")
    body["id"] = arm_id(sub, rg, "virtualMachineScaleSets", vmss, "virtualMachines", str(index))
    body["name"] = f"{vmss}_{index}"
    body["instanceId"] = str(index)
    body["location"] = "westeurope"
    body["tags"] = {"env": "prod"}
    body["sku"] = {"name": "Standard_D2s_v3", "tier": "Standard"}
    body["properties"]["vmId"] = f"00000000-0000-4000-8000-{index:012d}"
    body["properties"]["storageProfile"]["imageReference"] = {"id": image_id, "exactVersion": exact}
    body["properties"]["instanceView"] = {"statuses": status_list(power)}
    return body


def virtual_machine(
    sub: str, rg: str, name: str, image_reference: dict[str, str], *, vmss_id: str = "", zones: list[str] | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "vmId": f"vm-{name}",
        "hardwareProfile": {"vmSize": "Standard_B2s"},
        "storageProfile": {
            "imageReference": image_reference,
            "osDisk": {"osType": "Linux", "name": f"{name}_OsDisk", "createOption": "FromImage", "diskSizeGB": 30},
            "dataDisks": [],
        },
        "provisioningState": "Succeeded",
    }
    if vmss_id:
        properties["virtualMachineScaleSet"] = {"id": vmss_id}
    body = {
        "id": arm_id(sub, rg, "virtualMachines", name),
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": {"role": name.split("-")[0]},
        "properties": properties,
    }
    if zones:
        body["zones"] = zones
    return body


def status_only_item(machine: dict[str, Any], power: str) -> dict[str, Any]:
    """What ``virtualMachines?statusOnly=true`` returns for a VM: its id and instance view, no model."""
    return {
        "id": machine["id"],
        "name": machine["name"],
        "type": machine["type"],
        "location": machine["location"],
        "properties": {"vmId": machine["properties"]["vmId"], "instanceView": {"statuses": status_list(power)}},
    }


def gallery_version(sub: str, rg: str, gallery: str, definition: str, version: str, regions: list[str]) -> dict:
    """A gallery image version list item in the shape of the recorded GalleryImageVersion body."""
    body = recorded_body("GalleryImageVersion_Get.json")
    body["id"] = arm_id(sub, rg, "galleries", gallery, "images", definition, "versions", version)
    body["name"] = version
    body["location"] = "West Europe"
    body["tags"] = {"build": f"b-{version}"}
    profile = body["properties"]["publishingProfile"]
    profile["targetRegions"] = [{"name": region, "regionalReplicaCount": 1} for region in regions]
    profile["publishedDate"] = "2026-01-15T10:00:00Z"
    return body


def compute_path(sub: str, *segments: str) -> str:
    return "/".join([f"/subscriptions/{sub}/providers/Microsoft.Compute", *segments])


def group_path(sub: str, rg: str, *segments: str) -> str:
    return arm_id(sub, rg, *segments)


# The fleet of subscription A. Expected values are written by hand in the tests.
GOLD = ("rg-images", "goldGallery", "ubuntu-22")
LATEST_ID = arm_id(SUB_A, *GOLD[:1], "galleries", GOLD[1], "images", GOLD[2], "versions", "latest")
DEFINITION_ID_OTHER_CASE = (
    f"/SUBSCRIPTIONS/{SUB_A}/resourceGroups/RG-IMAGES/providers/microsoft.compute/galleries/GoldGallery"
    "/images/Ubuntu-22"
)
CONCRETE_ID_OTHER_CASE = (
    f"/Subscriptions/{SUB_A}/ResourceGroups/RG-Images/Providers/Microsoft.Compute/Galleries/goldgallery"
    "/Images/UBUNTU-22/Versions/1.0.0"
)


@pytest.fixture
def fleet_a(arm: ArmFake) -> ArmFake:
    """Subscription A: two uniform scale sets, a flexible one, and standalone VMs (one deallocated)."""
    web = scale_set(SUB_A, "rg-web", "web-vmss", LATEST_ID)
    api = scale_set(SUB_A, "RG-API", "api-vmss", DEFINITION_ID_OTHER_CASE)
    flex = scale_set(SUB_A, "rg-flex", "flex-vmss", LATEST_ID, mode="Flexible")
    arm.list(compute_path(SUB_A, "virtualMachineScaleSets"), [web, api], [flex])
    arm.list(
        group_path(SUB_A, "rg-web", "virtualMachineScaleSets", "web-vmss", "virtualMachines"),
        [scale_set_vm(SUB_A, "rg-web", "web-vmss", 0, LATEST_ID, "1.0.0", "running")],
        [scale_set_vm(SUB_A, "rg-web", "web-vmss", 1, LATEST_ID, "1.1.0", "running")],
    )
    arm.list(
        group_path(SUB_A, "RG-API", "virtualMachineScaleSets", "api-vmss", "virtualMachines"),
        [scale_set_vm(SUB_A, "RG-API", "api-vmss", 3, DEFINITION_ID_OTHER_CASE, "1.1.0", "stopped")],
    )
    db = virtual_machine(SUB_A, "rg-db", "db-01", {"id": CONCRETE_ID_OTHER_CASE, "exactVersion": "1.0.0"}, zones=["2"])
    build = virtual_machine(
        SUB_A,
        "rg-ci",
        "build-01",
        {
            "publisher": "Canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts-gen2",
            "version": "latest",
            "exactVersion": "22.04.202601150",
        },
    )
    flex_vm = virtual_machine(
        SUB_A, "rg-flex", "flex-01", {"id": LATEST_ID, "exactVersion": "1.1.0"}, vmss_id=flex["id"]
    )
    arm.list(
        compute_path(SUB_A, "virtualMachines"),
        [db, build],
        [flex_vm],
        status_only=[
            status_only_item(db, "deallocated"),
            status_only_item(build, "running"),
            status_only_item(flex_vm, "starting"),
        ],
    )
    return arm


def gallery(sub: str, rg: str, name: str) -> dict[str, Any]:
    return {
        "id": arm_id(sub, rg, "galleries", name),
        "name": name,
        "type": "Microsoft.Compute/galleries",
        "location": "westeurope",
        "properties": {"identifier": {"uniqueName": f"{sub}-{name.upper()}"}, "provisioningState": "Succeeded"},
    }


def gallery_image(sub: str, rg: str, gallery_name: str, name: str, os_type: str) -> dict[str, Any]:
    """An image definition list item built from the recorded GalleryImage GET body."""
    body = recorded_body("GalleryImage_Get.json")
    body["id"] = arm_id(sub, rg, "galleries", gallery_name, "images", name)
    body["name"] = name
    body["properties"]["osType"] = os_type
    body["properties"]["identifier"] = {"publisher": "qlrf", "offer": "golden", "sku": name}
    return body


@pytest.fixture
def galleries_a(arm: ArmFake) -> ArmFake:
    """Subscription A's galleries: goldGallery (two pages of versions) and the recorded myGalleryName example."""
    arm.list(
        compute_path(SUB_A, "galleries"),
        [gallery(SUB_A, "rg-images", "goldGallery")],
        [gallery(SUB_A, "myResourceGroup", "myGalleryName")],
    )
    gold = group_path(SUB_A, "rg-images", "galleries", "goldGallery", "images")
    arm.list(gold, [gallery_image(SUB_A, "rg-images", "goldGallery", "ubuntu-22", "Linux")])
    first = gallery_version(SUB_A, "rg-images", "goldGallery", "ubuntu-22", "1.0.0", ["West Europe", "North Europe"])
    second = gallery_version(SUB_A, "rg-images", "goldGallery", "ubuntu-22", "1.1.0", ["West Europe"])
    for body in (first, second):  # the gold versions are not reported for a policy violation
        body["properties"]["safetyProfile"] = {"allowDeletionOfReplicatedLocations": False}
    arm.list(f"{gold}/ubuntu-22/versions", [first], [second])
    arm.get(f"{gold}/ubuntu-22/versions/1.0.0", with_replication(first, {"West Europe": 100, "North Europe": 40}))
    arm.get(f"{gold}/ubuntu-22/versions/1.1.0", with_replication(second, {"West Europe": 100}))
    recorded = group_path(SUB_A, "myResourceGroup", "galleries", "myGalleryName", "images")
    arm.list(recorded, [recorded_body("GalleryImage_Get.json")])
    listed = recorded_body("GalleryImageVersion_ListByGalleryImage.json")
    assert listed["nextLink"].startswith("http://svchost:99/")  # replaced by a link to the local server
    arm.list(f"{recorded}/myGalleryImageName/versions", listed["value"], [])
    arm.get(f"{recorded}/myGalleryImageName/versions/1.0.0", with_replication(listed["value"][0], {"West US": 100}))
    return arm


def with_replication(body: dict[str, Any], progress: dict[str, int]) -> dict[str, Any]:
    """A version's GET body with ``$expand=ReplicationStatus``: the recorded shape of ``replicationStatus``."""
    summary = [
        {"region": region, "state": "Completed" if pct == 100 else "Replicating", "details": "", "progress": pct}
        for region, pct in progress.items()
    ]
    aggregated = "Completed" if all(pct == 100 for pct in progress.values()) else "InProgress"
    detailed = json.loads(json.dumps(body))
    detailed["properties"]["replicationStatus"] = {"aggregatedState": aggregated, "summary": summary}
    return detailed
