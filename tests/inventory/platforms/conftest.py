"""Four fake worlds for one organisation's inventory: moto (AWS), a local HTTPS ARM (Azure), a local Compute REST API
(GCP) and vcsim (vSphere), each speaking its platform's real wire format.

The servers and payload builders come from the connector suites' conftest modules (imported as helpers, their
fixtures re-declared here). The worlds are small and fixed so the tests can write every expected value by hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
import ssl
import subprocess
import types
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from pytest_httpserver import HTTPServer
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim
from urllib3.exceptions import InsecureRequestWarning

aws_kit = importlib.import_module("tests.inventory.connectors.aws.conftest")
azure_kit = importlib.import_module("tests.inventory.connectors.azure.conftest")
gcp_kit = importlib.import_module("tests.inventory.connectors.gcp.conftest")
vsphere_kit = importlib.import_module("tests.inventory.connectors.vsphere.conftest")

SUB_A, SUB_B = azure_kit.SUB_A, azure_kit.SUB_B
GCP_BASE = gcp_kit.BASE
GCP_IMAGES = f"{GCP_BASE}projects/acme-images/global/images/"
VCSIM_USER, VCSIM_PASSWORD = vsphere_kit.VCSIM_USER, vsphere_kit.VCSIM_PASSWORD
TEMPLATE_UUID = "42000000-0000-4000-8000-0000000f0001"
VSPHERE_UUIDS = {
    "web-1": "42000000-0000-4000-8000-0000000f0011",
    "web-2": "42000000-0000-4000-8000-0000000f0012",
    "db-1": "42000000-0000-4000-8000-0000000f0013",
    "app-1": "42000000-0000-4000-8000-0000000f0014",
    "legacy-1": "42000000-0000-4000-8000-0000000f0015",
    "rogue-1": "42000000-0000-4000-8000-0000000f0016",
    "edge-1": "42000000-0000-4000-8000-0000000f0021",
    "edge-2": "42000000-0000-4000-8000-0000000f0022",
}


# -- AWS: moto's HTTP server on 127.0.0.1 with the two-account world of the AWS suite ---------------------------------
@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake base credentials, no profile/config/metadata leaking in, moto without its ~thousand default AMIs."""
    empty = tmp_path_factory.mktemp("aws-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
            patch.delenv(name, raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        yield


def _moto_reset(endpoint: str) -> None:
    """Empty moto's (process-wide) backends through its own API, so no other module's world mixes with ours."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def moto(aws_env: None) -> Iterator[types.SimpleNamespace]:
    """(endpoint, world): account A with an ASG and a regional AMI copy, account B with one app machine."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _moto_reset(endpoint)
        yield types.SimpleNamespace(endpoint=endpoint, world=aws_kit.build_world(endpoint), kit=aws_kit)
    finally:
        with contextlib.suppress(OSError):
            _moto_reset(endpoint)
        server.stop()


# -- Azure: the HTTPS ARM fake of the Azure suite, with subscription A's fleet and a small subscription B ------------
@pytest.fixture(autouse=True)
def _quiet_unverified_tls() -> Iterator[None]:
    """The Azure connector talks to a self-signed server with connection_verify=False on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        yield


@pytest.fixture(scope="module")
def arm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPServer]:
    cert, key = azure_kit.make_self_signed(tmp_path_factory.mktemp("arm-tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def arm(arm_server: HTTPServer) -> Iterator[Any]:
    arm_server.clear()
    yield azure_kit.ArmFake(arm_server)
    arm_server.clear()


def serve_subscription_a(arm: Any) -> None:
    """Serve subscription A as the Azure suite's ``fleet_a`` does (VMSS on latest, case variants, flex, marketplace)."""
    k = azure_kit
    web = k.scale_set(SUB_A, "rg-web", "web-vmss", k.LATEST_ID)
    api = k.scale_set(SUB_A, "RG-API", "api-vmss", k.DEFINITION_ID_OTHER_CASE)
    flex = k.scale_set(SUB_A, "rg-flex", "flex-vmss", k.LATEST_ID, mode="Flexible")
    arm.list(k.compute_path(SUB_A, "virtualMachineScaleSets"), [web, api], [flex])
    arm.list(
        k.group_path(SUB_A, "rg-web", "virtualMachineScaleSets", "web-vmss", "virtualMachines"),
        [k.scale_set_vm(SUB_A, "rg-web", "web-vmss", 0, k.LATEST_ID, "1.0.0", "running")],
        [k.scale_set_vm(SUB_A, "rg-web", "web-vmss", 1, k.LATEST_ID, "1.1.0", "running")],
    )
    arm.list(
        k.group_path(SUB_A, "RG-API", "virtualMachineScaleSets", "api-vmss", "virtualMachines"),
        [k.scale_set_vm(SUB_A, "RG-API", "api-vmss", 3, k.DEFINITION_ID_OTHER_CASE, "1.1.0", "stopped")],
    )
    db = k.virtual_machine(SUB_A, "rg-db", "db-01", {"id": k.CONCRETE_ID_OTHER_CASE, "exactVersion": "1.0.0"})
    marketplace = {
        "publisher": "Canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts-gen2",
        "version": "latest",
        "exactVersion": "22.04.202601150",
    }
    build = k.virtual_machine(SUB_A, "rg-ci", "build-01", marketplace)
    flex_vm = k.virtual_machine(
        SUB_A, "rg-flex", "flex-01", {"id": k.LATEST_ID, "exactVersion": "1.1.0"}, vmss_id=flex["id"]
    )
    arm.list(
        k.compute_path(SUB_A, "virtualMachines"),
        [db, build],
        [flex_vm],
        status_only=[
            k.status_only_item(db, "deallocated"),
            k.status_only_item(build, "running"),
            k.status_only_item(flex_vm, "starting"),
        ],
    )


def serve_subscription_b(arm: Any) -> None:
    """Subscription B: no scale sets, two VMs on subscription A's gallery (one on ``latest``, one concrete)."""
    k = azure_kit
    arm.list(k.compute_path(SUB_B, "virtualMachineScaleSets"), [])
    edge = k.virtual_machine(SUB_B, "rg-edge", "edge-01", {"id": k.LATEST_ID, "exactVersion": "1.1.0"})
    edge2 = k.virtual_machine(SUB_B, "rg-edge", "edge-02", {"id": k.CONCRETE_ID_OTHER_CASE, "exactVersion": "1.0.0"})
    arm.list(
        k.compute_path(SUB_B, "virtualMachines"),
        [edge, edge2],
        status_only=[k.status_only_item(edge, "running"), k.status_only_item(edge2, "running")],
    )


def refuse_subscription(arm: Any, subscription: str, message: str) -> None:
    """Every Compute list of ``subscription`` answers 403 AuthorizationFailed (ARM's error body)."""
    for collection in ("virtualMachineScaleSets", "virtualMachines"):
        arm.error(azure_kit.compute_path(subscription, collection), 403, "AuthorizationFailed", message)


@pytest.fixture
def azure_credential() -> Any:
    """A TokenCredential with a fixed bearer token (no identity endpoint), injected through ``connector_kwargs``."""
    return azure_kit.FixedTokenCredential()


# -- GCP: the Compute v1 REST fake of the GCP suite with projects acme-prod, acme-edge and image project acme-images --
@pytest.fixture(scope="module")
def compute_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def compute(compute_server: HTTPServer) -> Iterator[Any]:
    """A fresh fake Compute API holding the GCP world (named resources in ``compute.world``)."""
    fake = gcp_kit.FakeCompute()
    compute_server.clear()
    compute_server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    fake.endpoint = f"http://127.0.0.1:{compute_server.port}"
    fake.world = build_gcp_world(fake)
    yield fake
    compute_server.clear()


def build_gcp_world(c: Any) -> dict[str, dict]:
    """Fill the fake with three projects (acme-images, acme-prod, acme-edge); return the named resources."""
    # acme-images: golden-web v1.0.0 (deprecated) and v1.1.0 in family golden-web, and scratch-build.
    # acme-prod: a MIG whose template names the *family* while its members' disks came from the two concrete images,
    # a suspended machine whose disk names the family (resolved through sourceImageId), a TERMINATED one, one on the
    # scratch image. acme-edge: two machines on the golden images.
    r: dict[str, dict] = {}
    created = "2024-01-10T10:00:00.000-08:00"
    r["v100"] = c.add_image(
        "acme-images", "golden-web-v1-0-0", family="golden-web", created=created, deprecated="DEPRECATED"
    )
    r["v110"] = c.add_image("acme-images", "golden-web-v1-1-0", family="golden-web", created="2024-02-01T10:00:00Z")
    r["scratch"] = c.add_image("acme-images", "scratch-build", created="2024-03-05T10:00:00.000-08:00")
    p = "acme-prod"
    c.scopes[p] += ["zones/us-central1-a", "zones/us-central1-b"]
    template = c.add_template(p, "web-tmpl", "projects/acme-images/global/images/family/golden-web")
    for name, image in (("web-1", "v100"), ("web-2", "v110")):
        disk = c.add_disk(p, "us-central1-a", name, source_image=r[image]["selfLink"], source_image_id=r[image]["id"])
        r[name] = c.add_instance(p, "us-central1-a", name, disk=disk, labels={"app": "web"})
    c.add_mig(p, "web-mig", template["selfLink"], [r["web-1"], r["web-2"]], zone="us-central1-a")
    legacy = c.add_disk(
        p, "us-central1-b", "legacy-1", source_image=f"{GCP_IMAGES}family/golden-web", source_image_id=r["v110"]["id"]
    )
    r["legacy-1"] = c.add_instance(p, "us-central1-b", "legacy-1", status="SUSPENDED", disk=legacy)
    db = c.add_disk(p, "us-central1-b", "db-1", source_image=r["v100"]["selfLink"])
    r["db-1"] = c.add_instance(p, "us-central1-b", "db-1", status="TERMINATED", disk=db)
    scratch = c.add_disk(p, "us-central1-b", "scratch-1", source_image=r["scratch"]["selfLink"])
    r["scratch-1"] = c.add_instance(p, "us-central1-b", "scratch-1", disk=scratch)
    for name, image in (("edge-1", "v110"), ("edge-2", "v100")):
        disk = c.add_disk("acme-edge", "europe-west4-a", name, source_image=r[image]["selfLink"])
        r[name] = c.add_instance("acme-edge", "europe-west4-a", name, disk=disk)
    return r


# -- vSphere: vcsim processes (built from Debian's govmomi) with VMs created through pyvmomi -----------------------
@dataclasses.dataclass
class Vcenter:
    """A running vcsim: where it listens, and how to stop it (its port is then closed)."""

    host: str
    port: int
    process: subprocess.Popen[str]

    @property
    def account(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_vcsim(log_dir: Path) -> Iterator[Vcenter]:
    """Start vcsim (one datacenter: a 2-host cluster and a standalone host, no VMs) on a free 127.0.0.1 port."""
    binary = vsphere_kit.vcsim_binary()
    with (log_dir / "vcsim.log").open("w") as log:
        args = [str(binary), "-listen", "127.0.0.1:0", "-username", VCSIM_USER, "-password", VCSIM_PASSWORD]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        vcenter = Vcenter("127.0.0.1", 0, process)
        try:
            url = vsphere_kit._read_url(process)
            host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
            vcenter.host, vcenter.port = host, int(port)
            vsphere_kit._wait_until_answering(host, int(port))
            yield vcenter
        finally:
            vcenter.stop()


def _options(values: dict[str, str]) -> list[vim.option.OptionValue]:
    return [vim.option.OptionValue(key=key, value=value) for key, value in values.items()]


def _create_vm(folder: vim.Folder, compute: vim.ComputeResource, name: str, **spec: Any) -> vim.VirtualMachine:
    config = vim.vm.ConfigSpec(
        name=name, guestId="otherGuest64", files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"), **spec
    )
    task = folder.CreateVM_Task(config=config, pool=compute.resourcePool, host=compute.host[0])
    WaitForTask(task)
    return task.info.result


def _clone(template: vim.VirtualMachine, folder: vim.Folder, compute: vim.ComputeResource, name: str) -> None:
    config = vim.vm.ConfigSpec(
        instanceUuid=VSPHERE_UUIDS[name], extraConfig=_options({"qlrf.image.template_uuid": TEMPLATE_UUID})
    )
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=compute.resourcePool), config=config, template=False)
    task = template.CloneVM_Task(folder=folder, name=name, spec=spec)
    WaitForTask(task)
    WaitForTask(task.info.result.PowerOnVM_Task())


@contextlib.contextmanager
def _datacenter(vcenter: Vcenter) -> Iterator[tuple[vim.Datacenter, vim.ClusterComputeResource]]:
    service_instance = SmartConnect(
        host=vcenter.host, port=vcenter.port, user=VCSIM_USER, pwd=VCSIM_PASSWORD, disableSslCertValidation=True
    )
    try:
        (datacenter,) = service_instance.RetrieveContent().rootFolder.childEntity
        cluster = next(c for c in datacenter.hostFolder.childEntity if isinstance(c, vim.ClusterComputeResource))
        yield datacenter, cluster
    finally:
        Disconnect(service_instance)


def build_main_vcenter(vcenter: Vcenter) -> None:
    """Create the main vCenter's template (extraConfig 1.0.0), its two clones and four VMs stating their own image."""
    # db-1: annotation 1.1.0 (powered off); app-1: extraConfig app-base 3.0.1; legacy-1: no image facts;
    # rogue-1: annotation naming a version the registry does not have.
    with _datacenter(vcenter) as (datacenter, cluster):
        templates = datacenter.vmFolder.CreateFolder("templates")
        prod = datacenter.vmFolder.CreateFolder("prod")
        template = _create_vm(
            templates,
            cluster,
            "ubuntu-2204-golden",
            instanceUuid=TEMPLATE_UUID,
            extraConfig=_options({"qlrf.image.family": "ubuntu-2204-base", "qlrf.image.version": "1.0.0"}),
        )
        template.MarkAsTemplate()
        _clone(template, prod, cluster, "web-1")
        _clone(template, prod, cluster, "web-2")
        facts = {
            "db-1": {"annotation": "owner: dba\nqlrf.image=ubuntu-2204-base@1.1.0"},
            "app-1": {"extraConfig": _options({"qlrf.image.family": "app-base", "qlrf.image.version": "3.0.1"})},
            "legacy-1": {},
            "rogue-1": {"annotation": "qlrf.image=ubuntu-2204-base@9.9.9"},
        }
        for name, spec in facts.items():
            vm = _create_vm(prod, cluster, name, instanceUuid=VSPHERE_UUIDS[name], **spec)
            if name != "db-1":  # db-1 stays powered off
                WaitForTask(vm.PowerOnVM_Task())


def build_edge_vcenter(vcenter: Vcenter) -> None:
    """DC0 of the second vCenter: two VMs stating their golden version by annotation."""
    with _datacenter(vcenter) as (datacenter, cluster):
        for name, version in (("edge-1", "1.1.0"), ("edge-2", "1.0.0")):
            vm = _create_vm(
                datacenter.vmFolder,
                cluster,
                name,
                instanceUuid=VSPHERE_UUIDS[name],
                annotation=f"qlrf.image=ubuntu-2204-base@{version}",
            )
            WaitForTask(vm.PowerOnVM_Task())


@pytest.fixture(scope="module")
def vcenter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vcenter]:
    """The main vCenter (built once per module; the tests only read it)."""
    with running_vcsim(tmp_path_factory.mktemp("vcsim-main")) as running:
        build_main_vcenter(running)
        yield running


@pytest.fixture
def edge_vcenter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vcenter]:
    """A second vCenter a test may stop (its port then refuses connections)."""
    with running_vcsim(tmp_path_factory.mktemp("vcsim-edge")) as running:
        build_edge_vcenter(running)
        yield running


# -- credentials: env: references, set per test --------------------------------------------------------------------
@pytest.fixture
def credential_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Each connector's secret in an environment variable; returns platform → credential reference."""
    monkeypatch.setenv("QLRF_TEST_AWS_KEYS", "testing:testing")
    monkeypatch.setenv("QLRF_TEST_AZURE_SECRET", "client-secret-unused-with-the-injected-credential")
    monkeypatch.setenv("QLRF_TEST_GCP_KEY", "key-unused-with-the-injected-credentials")
    monkeypatch.setenv("QLRF_TEST_VSPHERE_PASSWORD", VCSIM_PASSWORD)
    return {
        "aws": "env:QLRF_TEST_AWS_KEYS",
        "azure": "env:QLRF_TEST_AZURE_SECRET",
        "gcp": "env:QLRF_TEST_GCP_KEY",
        "vsphere": "env:QLRF_TEST_VSPHERE_PASSWORD",
    }


@pytest.fixture(scope="session")
def worlds() -> types.SimpleNamespace:
    """The helpers above for the test module (a test file cannot import conftest under importlib mode)."""
    return types.SimpleNamespace(
        SUB_A=SUB_A,
        SUB_B=SUB_B,
        VSPHERE_UUIDS=VSPHERE_UUIDS,
        VCSIM_USER=VCSIM_USER,
        serve_subscription_a=serve_subscription_a,
        serve_subscription_b=serve_subscription_b,
        refuse_subscription=refuse_subscription,
        azure_kit=azure_kit,
    )
