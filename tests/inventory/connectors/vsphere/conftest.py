"""vcsim (the vCenter simulator, built from Debian's govmomi package) and a small fleet created in it with pyvmomi.

``vcsim`` builds ``var/bin/vcsim`` (or ``$QLRF_VCSIM_BIN``) with ``tools/vcsim/build.sh`` when it is missing, starts it
on a free 127.0.0.1 port, and yields ``(host, port)``. ``fleet`` creates templates, VMs, folders, custom attributes
and a content library item with fixed instance UUIDs, so the tests can assert exact values.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim

REPO_ROOT = Path(__file__).resolve().parents[4]
BUILD_SCRIPT = REPO_ROOT / "tools" / "vcsim" / "build.sh"
VCSIM_USER = "qlrf-svc"
VCSIM_PASSWORD = "vc-S3cret!"
APT_PACKAGES = "golang-go golang-github-vmware-govmomi-dev"
START_TIMEOUT_SECONDS = 20

TEMPLATE_UUID = "42000000-0000-4000-8000-00000000a001"
UUIDS = {
    "web-1": "42000000-0000-4000-8000-000000000001",
    "web-2": "42000000-0000-4000-8000-000000000002",
    "db-1": "42000000-0000-4000-8000-000000000003",
    "batch-1": "42000000-0000-4000-8000-000000000004",
    "mixed-1": "42000000-0000-4000-8000-000000000005",
    "legacy-1": "42000000-0000-4000-8000-000000000006",
    "ca-1": "42000000-0000-4000-8000-000000000007",
    "lib-1": "42000000-0000-4000-8000-000000000008",
}


def vcsim_binary() -> Path:
    """The vcsim program, built with tools/vcsim/build.sh when missing (a failed build is a test error, not a skip)."""
    binary = Path(os.environ.get("QLRF_VCSIM_BIN") or REPO_ROOT / "var" / "bin" / "vcsim")
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    build = subprocess.run([str(BUILD_SCRIPT), str(binary)], capture_output=True, text=True, timeout=600, check=False)
    if build.returncode != 0 or not binary.is_file():
        message = (build.stderr or build.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.fail(f"cannot build vcsim ({message[0]}); CI needs: apt-get install -y {APT_PACKAGES}", pytrace=False)
    return binary


def _read_url(process: subprocess.Popen[str]) -> str:
    """The URL line vcsim prints on stdout once it listens."""
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("https://"):
        process.kill()
        pytest.fail(f"vcsim did not print its URL (got {line!r}, exit code {process.poll()})", pytrace=False)
    return line


def _wait_until_answering(host: str, port: int) -> None:
    context = ssl._create_unverified_context()  # vcsim's certificate is govmomi's built-in test certificate
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"https://{host}:{port}/about", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@pytest.fixture(scope="session")
def vcsim_bin() -> Path:
    """The vcsim program (built on first use)."""
    return vcsim_binary()


@pytest.fixture(scope="session")
def vcsim(vcsim_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A running vcsim with 2 datacenters (each: one 2-host cluster and one standalone host) and no VMs."""
    binary = vcsim_bin
    log = (tmp_path_factory.mktemp("vcsim") / "vcsim.log").open("w")
    args = [str(binary), "-listen", "127.0.0.1:0", "-username", VCSIM_USER, "-password", VCSIM_PASSWORD, "-dc", "2"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        url = _read_url(process)
        host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        _wait_until_answering(host, int(port))
        yield host, int(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def fleet(vcsim: tuple[str, int]) -> dict[str, str]:
    """Create the test fleet in vcsim (see module docstring); return its fixed ids and vcsim's credentials."""
    host, port = vcsim
    service_instance = SmartConnect(
        host=host, port=port, user=VCSIM_USER, pwd=VCSIM_PASSWORD, disableSslCertValidation=True
    )
    try:
        content = service_instance.RetrieveContent()
        datacenters = {dc.name: dc for dc in content.rootFolder.childEntity}
        library_id, item_id = _create_library_item(host, port, datacenters["DC1"])
        _build_dc0(datacenters["DC0"])
        _build_dc1(content, datacenters["DC1"], item_id)
    finally:
        Disconnect(service_instance)
    return {
        "library_id": library_id,
        "item_id": item_id,
        "template_uuid": TEMPLATE_UUID,
        "user": VCSIM_USER,
        "password": VCSIM_PASSWORD,
        **{f"uuid:{name}": uuid for name, uuid in UUIDS.items()},
    }


def _options(values: dict[str, str]) -> list[vim.option.OptionValue]:
    return [vim.option.OptionValue(key=key, value=value) for key, value in values.items()]


def _compute(datacenter: vim.Datacenter, clustered: bool) -> vim.ComputeResource:
    kind = vim.ClusterComputeResource if clustered else vim.ComputeResource
    return next(c for c in datacenter.hostFolder.childEntity if type(c) is kind)


def _create_vm(folder: vim.Folder, compute: vim.ComputeResource, name: str, **spec: object) -> vim.VirtualMachine:
    config = vim.vm.ConfigSpec(
        name=name, guestId="otherGuest64", files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"), **spec
    )
    task = folder.CreateVM_Task(config=config, pool=compute.resourcePool, host=compute.host[0])
    WaitForTask(task)
    return task.info.result


def _clone(
    template: vim.VirtualMachine, folder: vim.Folder, compute: vim.ComputeResource, name: str
) -> vim.VirtualMachine:
    config = vim.vm.ConfigSpec(
        instanceUuid=UUIDS[name], extraConfig=_options({"qlrf.image.template_uuid": TEMPLATE_UUID})
    )
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=compute.resourcePool), config=config, template=False)
    task = template.CloneVM_Task(folder=folder, name=name, spec=spec)
    WaitForTask(task)
    return task.info.result


def _build_dc0(datacenter: vim.Datacenter) -> None:
    cluster, standalone = _compute(datacenter, True), _compute(datacenter, False)
    templates = datacenter.vmFolder.CreateFolder("templates")
    prod = datacenter.vmFolder.CreateFolder("prod")
    batch = prod.CreateFolder("batch")
    template = _create_vm(
        templates,
        cluster,
        "ubuntu-22.04-golden",
        instanceUuid=TEMPLATE_UUID,
        extraConfig=_options({"qlrf.image.family": "ubuntu-22.04", "qlrf.image.version": "2024.06.1"}),
    )
    template.MarkAsTemplate()
    web1 = _clone(template, prod, cluster, "web-1")
    web2 = _clone(template, prod, cluster, "web-2")
    WaitForTask(web2.ReconfigVM_Task(vim.vm.ConfigSpec(annotation="owner: web\nqlrf.image=ubuntu-22.04@2024.07.2")))
    _create_vm(prod, cluster, "db-1", instanceUuid=UUIDS["db-1"], annotation="qlrf.image=ubuntu-22.04@2024.06.1")
    batch1 = _create_vm(
        batch,
        standalone,
        "batch-1",
        instanceUuid=UUIDS["batch-1"],
        extraConfig=_options({"qlrf.image.family": "rhel-9", "qlrf.image.version": "9.4.20240601"}),
    )
    mixed = _create_vm(
        prod,
        cluster,
        "mixed-1",
        instanceUuid=UUIDS["mixed-1"],
        annotation="qlrf.image=debian-12@12.6.0",
        extraConfig=_options({"qlrf.image.family": "debian-12", "qlrf.image.version": "12.5.0"}),
    )
    for vm in (web1, web2, batch1, mixed):
        WaitForTask(vm.PowerOnVM_Task())
    WaitForTask(batch1.SuspendVM_Task())


def _build_dc1(content: vim.ServiceInstanceContent, datacenter: vim.Datacenter, item_id: str) -> None:
    cluster = _compute(datacenter, True)
    legacy = _create_vm(datacenter.vmFolder, cluster, "legacy-1", instanceUuid=UUIDS["legacy-1"])
    custom = _create_vm(datacenter.vmFolder, cluster, "ca-1", instanceUuid=UUIDS["ca-1"])
    library_vm = _create_vm(
        datacenter.vmFolder,
        cluster,
        "lib-1",
        instanceUuid=UUIDS["lib-1"],
        extraConfig=_options({"qlrf.image.library_item": item_id}),
    )
    fields = content.customFieldsManager
    version_field = fields.AddCustomFieldDef(name="qlrf.image.version", moType=vim.VirtualMachine)
    family_field = fields.AddCustomFieldDef(name="qlrf.image.family", moType=vim.VirtualMachine)
    fields.SetField(entity=custom, key=version_field.key, value="2022.11.0")
    fields.SetField(entity=custom, key=family_field.key, value="windows-2022")
    for vm in (legacy, custom, library_vm):
        WaitForTask(vm.PowerOnVM_Task())


def _create_library_item(host: str, port: int, datacenter: vim.Datacenter) -> tuple[str, str]:
    """A local content library "golden" on DC1's datastore with one item, through vcsim's vAPI REST API."""
    context = ssl._create_unverified_context()
    basic = base64.b64encode(f"{VCSIM_USER}:{VCSIM_PASSWORD}".encode()).decode()

    def call(path: str, body: dict | None = None, session: str = "") -> object:
        headers = {"Content-Type": "application/json", "vmware-api-session-id": session}
        if not session:
            headers = {"Authorization": f"Basic {basic}"}
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"https://{host}:{port}/rest{path}", data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return json.loads(response.read())["value"]

    session = call("/com/vmware/cis/session")
    backing = {"type": "DATASTORE", "datastore_id": datacenter.datastore[0]._moId}
    library_spec = {"name": "golden", "type": "LOCAL", "storage_backings": [backing]}
    library_id = call("/com/vmware/content/local-library", {"create_spec": library_spec}, session)
    item_spec = {"library_id": library_id, "name": "rocky-9", "description": "qlrf.image=rocky-9@9.3.1", "type": "ovf"}
    item_id = call("/com/vmware/content/library/item", {"create_spec": item_spec}, session)
    return library_id, item_id


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
