"""vSphere drills on vcsim: clone the golden template into the recovery cluster, power on, check, destroy."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim

from apps.images.services import channel_promote
from apps.inventory.services import connector_create
from apps.resilience.models import DrillStep, HealthCheckResult
from apps.resilience.services import drill_janitor_sweep, drill_run_execute, drill_run_start
from tests.factories.images import EXAMPLES, register
from tests.inventory.connectors.vsphere.conftest import _read_url, _wait_until_answering, vcsim_binary

from .conftest import document, save

pytestmark = pytest.mark.django_db

USER, PASSWORD = "drill-svc", "dr-S3cret!"
RHEL = (EXAMPLES / "rhel-9.contract.yaml").read_text()
TEMPLATE_UUID = "42000000-0000-4000-8000-00000000d001"


@pytest.fixture(scope="module")
def vcsim() -> Iterator[tuple[str, int]]:
    """A vcsim of its own (one datacenter DC0 with cluster DC0_C0), started for this module and stopped after."""
    args = [str(vcsim_binary()), "-listen", "127.0.0.1:0", "-username", USER, "-password", PASSWORD]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        host, port = _read_url(process).split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        _wait_until_answering(host, int(port))
        yield host, int(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def template_uuid(vcsim) -> str:
    """One of vcsim's VMs, powered off and marked as the golden template; its instance UUID."""
    host, port = vcsim
    si = SmartConnect(host=host, port=port, user=USER, pwd=PASSWORD, disableSslCertValidation=True)
    try:
        datacenter = si.RetrieveContent().rootFolder.childEntity[0]
        cluster = next(c for c in datacenter.hostFolder.childEntity if isinstance(c, vim.ClusterComputeResource))
        config = vim.vm.ConfigSpec(
            name="golden-web-2.0.0",
            guestId="otherGuest64",
            files=vim.vm.FileInfo(vmPathName="[LocalDS_0]"),
            instanceUuid=TEMPLATE_UUID,
        )
        task = datacenter.vmFolder.CreateVM_Task(config=config, pool=cluster.resourcePool, host=cluster.host[0])
        WaitForTask(task)
        task.info.result.MarkAsTemplate()
        return TEMPLATE_UUID
    finally:
        Disconnect(si)


def _vm_names(vcsim) -> list[str]:
    host, port = vcsim
    si = SmartConnect(host=host, port=port, user=USER, pwd=PASSWORD, disableSslCertValidation=True)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        names = sorted(v.name for v in view.view)
        view.Destroy()
        return names
    finally:
        Disconnect(si)


@pytest.fixture
def vsphere_world(vcsim, template_uuid, tenant_a, envs, monkeypatch):
    host, port = vcsim
    monkeypatch.setenv("QLRF_TEST_VCSIM_PASSWORD", PASSWORD)
    artifact = {"platform": "vsphere", "account": f"{host}:{port}", "region": "DC0", "image_ref": template_uuid}
    version = register(tenant_a, RHEL, "2.0.0", artifacts=[artifact])
    channel_promote(actor=None, version=version, environment=envs["prod"])
    config = {"vcenters": [{"host": host, "port": port, "user": USER, "verify_ssl": False}], "timeout": 10}
    connector_create(
        actor=None,
        organization=tenant_a.organization,
        platform="vsphere",
        name="vcenter-dr",
        config=config,
        credential_ref="env:QLRF_TEST_VCSIM_PASSWORD",
    )
    return version


def _vsphere_document(**changes):
    return document(
        **{
            "workload": {"family": "rhel-9-appserver", "environment": "prod"},
            "target": {
                "platform": "vsphere",
                "connector": "vcenter-dr",
                "vsphere": {"datacenter": "DC0", "cluster": "DC0_C0"},
            },
            "pilot_light": {"count": 2, "cpus": 1, "memory_mb": 512},
            **changes,
        }
    )


def test_clone_power_on_check_and_destroy(vcsim, vsphere_world, tenant_a):
    before = _vm_names(vcsim)
    definition = save(tenant_a, _vsphere_document())
    run = drill_run_execute(run=drill_run_start(actor=None, definition=definition, trigger="manual"))

    assert run.status == "passed", run.reasons
    assert run.golden_version == vsphere_world
    assert len(run.resources) == 2
    assert list(DrillStep.objects.filter(run=run).values_list("kind", "status")) == [
        ("resolve", "ok"),
        ("recovery_point", "ok"),
        ("provision", "ok"),
        ("wait_running", "ok"),
        ("health_checks", "ok"),
        ("measure", "ok"),
        ("teardown", "ok"),
    ]
    provision = DrillStep.objects.get(run=run, kind="provision")
    assert provision.data["ids"] == run.resources
    results = HealthCheckResult.objects.filter(run=run)
    assert sorted(set(results.values_list("check_name", "passed"))) == [("golden", True), ("running", True)]
    assert set(results.values_list("resource", flat=True)) == set(run.resources)
    assert run.rto_met is True and run.rpo_met is True
    assert _vm_names(vcsim) == before  # both clones destroyed


def test_missing_template_in_the_recovery_datacenter_fails_without_cloning(vcsim, vsphere_world, tenant_a):
    before = _vm_names(vcsim)
    target = {"platform": "vsphere", "connector": "vcenter-dr", "vsphere": {"datacenter": "DC1", "cluster": "DC1_C0"}}
    definition = save(tenant_a, _vsphere_document(target=target))
    run = drill_run_execute(run=drill_run_start(actor=None, definition=definition, trigger="manual"))
    assert run.status == "failed"
    assert run.reasons == ["golden version rhel-9-appserver@2.0.0 has no copy in DC1 (copies in: DC0)"]
    assert _vm_names(vcsim) == before


def test_janitor_destroys_a_clone_left_by_a_dead_run(vcsim, vsphere_world, tenant_a, template_uuid):
    from apps.resilience.provisioners.vsphere import VsphereProvisioner

    definition = save(tenant_a, _vsphere_document())
    provisioner = VsphereProvisioner(connector=definition.connector, target=definition.document["target"])
    before = _vm_names(vcsim)
    ids = provisioner.provision(image_ref=template_uuid, pilot={"count": 1}, tag="999-4242")
    assert len(_vm_names(vcsim)) == len(before) + 1
    report = drill_janitor_sweep()
    assert report.destroyed == ids and report.errors == []
    assert _vm_names(vcsim) == before
