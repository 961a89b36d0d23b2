"""One property-collector pass over a vCenter: every VM and template plus the folders, datacenters, clusters and hosts
needed to place them (datacenter, cluster, folder path), read in a single RetrievePropertiesEx (+ continuations).

Nothing here asks the vCenter one VM at a time: placement is worked out in Python from the collected ``parent`` links.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pyVmomi import vim, vmodl

from .base import InvalidResponse

PAGE_SIZE = 500  # objects per RetrievePropertiesEx page (vcsim ignores it and answers in one page)
VM_PROPERTIES = [
    "name",
    "parent",
    "config.instanceUuid",
    "config.template",
    "config.annotation",
    "config.extraConfig",
    "runtime.powerState",
    "runtime.host",
    "customValue",  # ExtensibleManagedObject.customValue; vcsim leaves summary.customValue empty
]
PLACEMENT_TYPES = (vim.Folder, vim.Datacenter, vim.ComputeResource, vim.HostSystem)  # ComputeResource ⊃ clusters


@dataclasses.dataclass(frozen=True)
class Node:
    """A folder, datacenter, compute resource/cluster or host: its type name, name and parent moid."""

    kind: str
    name: str
    parent: str


@dataclasses.dataclass(frozen=True)
class VmRecord:
    """The collected properties of one VM or template."""

    moid: str
    name: str
    instance_uuid: str
    is_template: bool
    annotation: str
    extra_config: dict[str, str]
    power_state: str
    host: str
    parent: str
    custom_values: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a VM sits: datacenter, cluster (or standalone compute resource) name, folder path and folder moid."""

    datacenter: str
    cluster: str
    is_cluster: bool
    folder_path: str
    folder_moid: str
    host: str


@dataclasses.dataclass
class Inventory:
    """Everything one pass collected from a vCenter."""

    vms: list[VmRecord]
    nodes: dict[str, Node]

    def datacenters(self) -> set[str]:
        return {node.name for node in self.nodes.values() if node.kind == "Datacenter"}

    def placement(self, vm: VmRecord) -> Placement:
        """Datacenter, cluster and folder path of a VM, from the collected parent links."""
        names: list[str] = []
        datacenter, moid = "", vm.parent
        while moid and moid in self.nodes:
            node = self.nodes[moid]
            if node.kind == "Datacenter":
                datacenter = node.name
                break
            names.append(node.name)
            moid = node.parent
        host = self.nodes.get(vm.host)
        compute = self.nodes.get(host.parent) if host else None
        if not datacenter and compute is not None:  # a vApp child has no folder parent: place it by its host
            datacenter = self._datacenter_above(host.parent)
        folder_path = "/" + "/".join([datacenter, *reversed(names)]) if names else ""
        return Placement(
            datacenter=datacenter,
            cluster=compute.name if compute else "",
            is_cluster=bool(compute and compute.kind == "ClusterComputeResource"),
            folder_path=folder_path,
            folder_moid=vm.parent if names else "",
            host=host.name if host else "",
        )

    def _datacenter_above(self, moid: str) -> str:
        while moid and moid in self.nodes:
            if self.nodes[moid].kind == "Datacenter":
                return self.nodes[moid].name
            moid = self.nodes[moid].parent
        return ""


def collect_inventory(service_instance: vim.ServiceInstance) -> Inventory:
    """Read all VMs, templates and their placement objects in one property-collector pass."""
    content = service_instance.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine, *PLACEMENT_TYPES], True)
    try:
        objects = _retrieve_all(content, view)
    finally:
        view.DestroyView()
    if not any(isinstance(obj, vim.Datacenter) for obj, _props in objects):
        # Every vCenter/ESXi inventory holds at least one datacenter: an answer without one is not the container's
        # content (a session cut short, a proxy), and must never read as "no machines".
        raise InvalidResponse("the property collector returned no datacenter of the container view")
    fields_manager = content.customFieldsManager  # None on a standalone ESXi host
    field_names = {field.key: field.name for field in (fields_manager.field if fields_manager else None) or []}
    vms: list[VmRecord] = []
    nodes: dict[str, Node] = {}
    for obj, props in objects:
        if isinstance(obj, vim.VirtualMachine):
            vms.append(_vm_record(obj._moId, props, field_names))
        else:
            nodes[obj._moId] = Node(
                type(obj).__name__.rsplit(".", 1)[-1], props.get("name", ""), _moid(props.get("parent"))
            )
    return Inventory(vms=vms, nodes=nodes)


def _retrieve_all(content: vim.ServiceInstanceContent, view: vim.view.ContainerView) -> list[tuple[Any, dict]]:
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[
            vmodl.query.PropertyCollector.ObjectSpec(
                obj=view,
                skip=True,
                selectSet=[vmodl.query.PropertyCollector.TraversalSpec(path="view", skip=False, type=type(view))],
            )
        ],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=VM_PROPERTIES)]
        + [
            vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=["name", "parent"])
            for kind in PLACEMENT_TYPES
        ],
    )
    collector = content.propertyCollector
    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=PAGE_SIZE)
    result = collector.RetrievePropertiesEx(specSet=[spec], options=options)
    objects: list[tuple[Any, dict]] = []
    while result is not None:
        objects.extend((item.obj, {prop.name: prop.val for prop in item.propSet}) for item in result.objects)
        result = collector.ContinueRetrievePropertiesEx(token=result.token) if result.token else None
    return objects


def _vm_record(moid: str, props: dict[str, Any], field_names: dict[int, str]) -> VmRecord:
    return VmRecord(
        moid=moid,
        name=props.get("name", ""),
        instance_uuid=props.get("config.instanceUuid") or "",
        is_template=bool(props.get("config.template")),
        annotation=props.get("config.annotation") or "",
        extra_config={opt.key: str(opt.value) for opt in props.get("config.extraConfig") or []},
        power_state=str(props.get("runtime.powerState") or ""),
        host=_moid(props.get("runtime.host")),
        parent=_moid(props.get("parent")),
        custom_values={
            field_names.get(value.key, str(value.key)): str(getattr(value, "value", ""))
            for value in props.get("customValue") or []
        },
    )


def _moid(ref: Any) -> str:
    return ref._moId if ref is not None else ""
