"""vSphere pilot lights: clone the golden template into the recovery cluster, power on, and destroy the clone.

The session is the inventory vSphere connector's (``vcenter_session``: bounded probe, login, logout) with the
connector's vCenter entry, password reference and timeout. A clone carries its drill run in its annotation
(``qlrf:drill-run=<tag>``) and its name (``qlrf-drill-<tag>-<n>``), which is how the janitor finds it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from pyVim.task import WaitForTask
from pyVmomi import vim

from apps.inventory.connectors.base import ConnectorError
from apps.inventory.connectors.vsphere_session import (
    DEFAULT_TIMEOUT_SECONDS,
    VCENTER_ERRORS,
    VcenterTarget,
    describe_error,
    password_for,
    vcenter_session,
)
from apps.inventory.credentials import CredentialError, resolve_secret

from .base import TAG_KEY, BaseProvisioner, Machine, ProvisionError, register_provisioner

TEMPLATE_KEY = "qlrf:template"
NAME_PREFIX = "qlrf-drill-"
_STATES = {"poweredOn": "running", "poweredOff": "stopped", "suspended": "stopped"}


def _annotation_tags(annotation: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in (annotation or "").splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


@register_provisioner
class VsphereProvisioner(BaseProvisioner):
    """Clones of a template in one datacenter and cluster of one of the connector's vCenters."""

    slug = "vsphere"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.spec = self.target["vsphere"]
        self._vcenter: VcenterTarget | None = None

    @property
    def location(self) -> str:
        return self.spec["datacenter"]

    def artifact_matches(self, artifact) -> bool:
        return artifact.region == self.location and artifact.account in ("", self.vcenter.account)

    @property
    def vcenter(self) -> VcenterTarget:
        if self._vcenter is None:
            entries = [VcenterTarget.from_config(e) for e in self.connector.config.get("vcenters", [])]
            wanted = self.spec.get("vcenter")
            chosen = next((t for t in entries if wanted in (None, t.account, t.host)), None)
            if chosen is None:
                raise ProvisionError(f"connector {self.connector.name} has no vCenter {wanted!r}")
            self._vcenter = chosen
        return self._vcenter

    @contextlib.contextmanager
    def _session(self) -> Iterator[vim.ServiceInstance]:
        target = self.vcenter
        timeout = float(self.connector.config.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        try:
            password = password_for(resolve_secret(self.connector.credential_ref), target)
            with vcenter_session(target, password, timeout) as service_instance:
                yield service_instance
        except (ConnectorError, CredentialError) as exc:
            raise ProvisionError(str(exc)) from exc
        except VCENTER_ERRORS as exc:
            raise ProvisionError(describe_error(exc, target, timeout)) from exc

    def _datacenter(self, content) -> vim.Datacenter:
        for entity in content.rootFolder.childEntity:
            if isinstance(entity, vim.Datacenter) and entity.name == self.spec["datacenter"]:
                return entity
        raise ProvisionError(f"vCenter {self.vcenter.account} has no datacenter {self.spec['datacenter']!r}")

    def _find(self, content, datacenter, uuid: str):
        return content.searchIndex.FindByUuid(datacenter, uuid, True, True)

    def _clones(self, content, datacenter) -> Iterator[tuple[vim.VirtualMachine, dict[str, str]]]:
        view = content.viewManager.CreateContainerView(datacenter.vmFolder, [vim.VirtualMachine], True)
        try:
            for vm in view.view:
                if vm.name.startswith(NAME_PREFIX) and vm.config is not None:
                    tags = _annotation_tags(vm.config.annotation)
                    # The name carries the tag too, for a clone whose worker died before its annotation was set.
                    tags.setdefault(TAG_KEY, vm.name.removeprefix(NAME_PREFIX).rpartition("-")[0])
                    yield vm, tags
        finally:
            view.Destroy()

    def artifact_present(self, image_ref: str) -> bool:
        with self._session() as si:
            content = si.RetrieveContent()
            vm = self._find(content, self._datacenter(content), image_ref)
            return vm is not None and bool(vm.config.template)

    def _placement(self, datacenter) -> tuple[vim.ResourcePool, vim.Folder, Any]:
        cluster = next((c for c in datacenter.hostFolder.childEntity if c.name == self.spec["cluster"]), None)
        if cluster is None:
            raise ProvisionError(f"datacenter {datacenter.name} has no cluster {self.spec['cluster']!r}")
        folder = datacenter.vmFolder
        if self.spec.get("folder"):
            folder = next(
                (f for f in folder.childEntity if isinstance(f, vim.Folder) and f.name == self.spec["folder"]), None
            )
            if folder is None:
                raise ProvisionError(f"datacenter {datacenter.name} has no VM folder {self.spec['folder']!r}")
        datastore = None
        if self.spec.get("datastore"):
            datastore = next((d for d in datacenter.datastore if d.name == self.spec["datastore"]), None)
            if datastore is None:
                raise ProvisionError(f"datacenter {datacenter.name} has no datastore {self.spec['datastore']!r}")
        return cluster.resourcePool, folder, datastore

    def provision(self, *, image_ref: str, pilot: dict[str, Any], tag: str) -> list[str]:
        ids: list[str] = []
        with self._session() as si:
            content = si.RetrieveContent()
            datacenter = self._datacenter(content)
            template = self._find(content, datacenter, image_ref)
            if template is None:
                raise ProvisionError(f"template {image_ref} is not in datacenter {datacenter.name}")
            pool, folder, datastore = self._placement(datacenter)
            config = vim.vm.ConfigSpec(annotation=f"{TAG_KEY}={tag}\n{TEMPLATE_KEY}={image_ref}")
            if pilot.get("cpus"):
                config.numCPUs = pilot["cpus"]
            if pilot.get("memory_mb"):
                config.memoryMB = pilot["memory_mb"]
            relocate = (
                vim.vm.RelocateSpec(pool=pool, datastore=datastore) if datastore else vim.vm.RelocateSpec(pool=pool)
            )
            spec = vim.vm.CloneSpec(location=relocate, powerOn=False, template=False, config=config)
            for index in range(int(pilot["count"])):
                task = template.CloneVM_Task(folder=folder, name=f"{NAME_PREFIX}{tag}-{index + 1}", spec=spec)
                WaitForTask(task)
                clone = task.info.result
                ids.append(clone.config.instanceUuid)
                if TAG_KEY not in _annotation_tags(clone.config.annotation):  # not every vCenter applies it on clone
                    WaitForTask(clone.ReconfigVM_Task(spec=config))
                WaitForTask(clone.PowerOnVM_Task())
        return ids

    def describe(self, ids: list[str]) -> list[Machine]:
        machines = []
        with self._session() as si:
            content = si.RetrieveContent()
            datacenter = self._datacenter(content)
            for uuid in ids:
                vm = self._find(content, datacenter, uuid)
                if vm is None:
                    machines.append(Machine(id=uuid, state="missing"))
                    continue
                tags = _annotation_tags(vm.config.annotation)
                machines.append(
                    Machine(
                        id=uuid,
                        state=_STATES.get(str(vm.runtime.powerState), "pending"),
                        image_ref=tags.get(TEMPLATE_KEY, ""),
                        private_ip=vm.guest.ipAddress if vm.guest else None,
                    )
                )
        return machines

    def wait_running(self, ids: list[str], *, timeout: float) -> list[Machine]:
        deadline = time.monotonic() + timeout
        while True:
            machines = self.describe(ids)
            if all(m.state == "running" for m in machines) or time.monotonic() >= deadline:
                return machines
            if any(m.state == "missing" for m in machines):
                return machines
            time.sleep(self.poll_seconds)

    def destroy(self, ids: list[str]) -> list[str]:
        with self._session() as si:
            content = si.RetrieveContent()
            datacenter = self._datacenter(content)
            for uuid in ids:
                vm = self._find(content, datacenter, uuid)
                if vm is None:
                    continue
                if vm.runtime.powerState == vim.VirtualMachinePowerState.poweredOn:
                    WaitForTask(vm.PowerOffVM_Task())
                WaitForTask(vm.Destroy_Task())
        return list(ids)

    def tagged(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        with self._session() as si:
            content = si.RetrieveContent()
            for vm, tags in self._clones(content, self._datacenter(content)):
                found.setdefault(tags[TAG_KEY], []).append(vm.config.instanceUuid)
        return found
