"""VMware vSphere connector: VM templates, content library items and VMs, one vCenter (= one scope) at a time.

Each vCenter is read with one pyvmomi session (opened only in :func:`.vsphere_session.vcenter_session`) and one
property-collector pass (:mod:`.vsphere_inventory`); content libraries come from the vAPI REST API
(:mod:`.vsphere_library`). A VM's image family/version comes from the ordered ``version_sources``
(:mod:`.vsphere_versions`). Any failure of one vCenter becomes ``ScopeFailed`` for that vCenter only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from apps.images.refs import canonical_uuid

from .base import (
    BaseConnector,
    ConnectorError,
    DiscoveredAsset,
    DiscoveredImage,
    Scope,
    ScopeFailed,
    register_connector,
)
from .vsphere_inventory import Inventory, VmRecord, collect_inventory
from .vsphere_library import ContentLibraryClient, item_version
from .vsphere_normalise import library_image, template_image, vm_asset
from .vsphere_session import (
    DEFAULT_PORT,
    DEFAULT_TIMEOUT_SECONDS,
    VCENTER_ERRORS,
    VcenterTarget,
    describe_error,
    password_for,
    vcenter_session,
)
from .vsphere_versions import (
    DEFAULT_SOURCES,
    SOURCE_SCHEMA,
    ImageVersion,
    VmFacts,
    compile_annotation_pattern,
    parse_sources,
    resolve_version,
)

__all__ = ["CONFIG_SCHEMA", "VsphereConnector"]

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "VMware vSphere connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["vcenters"],
    "properties": {
        "vcenters": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["host", "user"],
                "properties": {
                    "host": {"type": "string", "minLength": 1},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": DEFAULT_PORT},
                    "user": {"type": "string", "minLength": 1},
                    "verify_ssl": {"type": "boolean", "default": True},
                    "datacenters": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
                },
            },
        },
        "version_sources": {"type": "array", "minItems": 1, "items": SOURCE_SCHEMA, "default": list(DEFAULT_SOURCES)},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": DEFAULT_TIMEOUT_SECONDS},
        "site_from": {"enum": ["datacenter", "cluster"], "default": "cluster"},
    },
}


@register_connector
class VsphereConnector(BaseConnector):
    """Discovers VM templates, content library items and VMs on one or more vCenters."""

    slug = "vsphere"
    label = "VMware vSphere"
    config_schema = CONFIG_SCHEMA
    sensitive_parameters = ()

    def __init__(self, config: dict[str, Any], secret: str | None = None):
        super().__init__(config, secret)
        self._targets: dict[str, VcenterTarget] = {}
        for entry in config["vcenters"]:
            target = VcenterTarget.from_config(entry)
            if target.account in self._targets:
                raise ConnectorError(f"vcenters: {target.account} is listed twice")
            self._targets[target.account] = target
        self._sources = parse_sources(config.get("version_sources"))
        self._timeout = float(config.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        self._site_from: str = config.get("site_from", "cluster")
        annotation = next((s.pattern for s in self._sources if s.kind == "annotation"), None)
        self._item_pattern = annotation or compile_annotation_pattern(None)

    # -- the connector interface -------------------------------------------------------------------------------

    def scopes(self) -> list[Scope]:
        """One scope per vCenter (account ``host`` or ``host:port``; vSphere has no region level above it)."""
        return [Scope(account=account) for account in self._targets]

    def test_connection(self) -> str:
        """Log in to every vCenter; return ``vCenter <version> at <host>`` for each, or raise ConnectorError."""
        described = []
        for target in self._targets.values():
            try:
                with self._session(target) as service_instance:
                    about = service_instance.content.about
                    described.append(f"vCenter {about.version} at {target.account}")
            except VCENTER_ERRORS as exc:
                raise ConnectorError(describe_error(exc, target, self._timeout)) from None
        return "; ".join(described)

    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        """VM templates of the scope's vCenter, then its content library items (when a source uses libraries)."""
        target = self._target(scope)
        with self._scope_errors(scope, target):
            inventory = self._inventory(scope, target)
            library_items = self._library_items(target) if self._uses_library else []
        lookup = {item["id"]: item_version(item, self._item_pattern) for item, _ in library_items}
        for vm in inventory.vms:
            placement = inventory.placement(vm)
            if vm.is_template and self._wanted(target, placement.datacenter):
                yield template_image(scope.account, vm, placement, self._version(vm, lookup))
        for item, library in library_items:
            yield library_image(scope.account, item, library, lookup[item["id"]])

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        """Every non-template VM of the scope's vCenter, with its image version, site, folder and edges."""
        target = self._target(scope)
        with self._scope_errors(scope, target):
            inventory = self._inventory(scope, target)
            lookup = self._library_lookup(target, self._referenced_items(inventory.vms))
        templates = {  # keyed by the canonical (lower-case) UUID: VMs may name their template in either case
            canonical_uuid(vm.instance_uuid): self._version(vm, lookup) for vm in inventory.vms if vm.is_template
        }
        for vm in inventory.vms:
            placement = inventory.placement(vm)
            if not vm.is_template and self._wanted(target, placement.datacenter):
                own = self._version(vm, lookup)
                yield vm_asset(scope.account, vm, placement, own, templates, self._site_from)

    # -- helpers -----------------------------------------------------------------------------------------------

    @property
    def _uses_library(self) -> bool:
        return any(source.kind == "content_library" for source in self._sources)

    def _target(self, scope: Scope) -> VcenterTarget:
        try:
            return self._targets[scope.account]
        except KeyError:
            raise ConnectorError(f"{scope.key} is not one of this connector's vCenters") from None

    def _session(self, target: VcenterTarget) -> contextlib.AbstractContextManager[Any]:
        return vcenter_session(target, password_for(self.secret, target), self._timeout)

    @contextlib.contextmanager
    def _scope_errors(self, scope: Scope, target: VcenterTarget) -> Iterator[None]:
        """Turn any vCenter, network or configuration failure inside the block into ScopeFailed for ``scope``."""
        try:
            yield
        except ScopeFailed:
            raise
        except ConnectorError as exc:
            raise ScopeFailed(scope, str(exc)) from None
        except VCENTER_ERRORS as exc:
            raise ScopeFailed(scope, describe_error(exc, target, self._timeout)) from None

    def _inventory(self, scope: Scope, target: VcenterTarget) -> Inventory:
        with self._session(target) as service_instance:
            inventory = collect_inventory(service_instance)
        missing = sorted(set(target.datacenters) - inventory.datacenters())
        if missing:
            raise ScopeFailed(scope, f"datacenter(s) not found on {target.account}: {', '.join(missing)}")
        return inventory

    def _wanted(self, target: VcenterTarget, datacenter: str) -> bool:
        return not target.datacenters or datacenter in target.datacenters

    def _version(self, vm: VmRecord, lookup: dict[str, ImageVersion | None]) -> ImageVersion | None:
        facts = VmFacts(vm.annotation, vm.extra_config, vm.custom_values)
        return resolve_version(facts, self._sources, lookup.get)

    def _referenced_items(self, vms: list[VmRecord]) -> set[str]:
        keys = {source.item_key for source in self._sources if source.kind == "content_library"}
        return {vm.extra_config[key].strip() for vm in vms for key in keys if vm.extra_config.get(key, "").strip()}

    def _library_lookup(self, target: VcenterTarget, item_ids: set[str]) -> dict[str, ImageVersion | None]:
        """Family/version of each referenced library item (one REST session; None for a deleted item)."""
        if not item_ids:
            return {}
        with ContentLibraryClient(target, password_for(self.secret, target), self._timeout) as client:
            items = {item_id: client.item(item_id) for item_id in sorted(item_ids)}
        return {item_id: item_version(item, self._item_pattern) if item else None for item_id, item in items.items()}

    def _library_items(self, target: VcenterTarget) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (item, library) pair of the vCenter's content libraries."""
        with ContentLibraryClient(target, password_for(self.secret, target), self._timeout) as client:
            pairs = [
                (client.item(item_id), library)
                for library in client.libraries()
                for item_id in client.item_ids(library["id"])
            ]
        return [(item, library) for item, library in pairs if item is not None]  # None: deleted while listing
