"""Microsoft Azure connector: gallery image versions and the VMs / scale-set VMs that run them, per subscription.

The azure-identity credential and the ``ComputeManagementClient`` are each built in one place (``_credential`` and
``_client``) with the configured endpoint, TLS verification, timeouts and the SDK's own retry policy; paging is the
SDK's ``ItemPaged``. Any failure inside a subscription surfaces as ``ScopeFailed`` with a readable reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    DeserializationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from .azure_parse import (
    build_asset,
    image_from_version,
    image_reference_of,
    normalise_resource_id,
    resource_id_part,
    statuses_of,
    text,
)
from .base import (
    BaseConnector,
    ConnectorError,
    DiscoveredAsset,
    DiscoveredImage,
    InvalidResponse,
    Scope,
    ScopeFailed,
    register_connector,
    require_answer,
)

__all__ = ["AzureConnector", "normalise_resource_id"]

DEFAULT_BASE_URL = "https://management.azure.com"
AUTH_KINDS = ("managed_identity", "client_secret", "certificate")

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Microsoft Azure connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["auth", "subscriptions"],
    "properties": {
        "auth": {
            "enum": list(AUTH_KINDS),
            "description": "how to authenticate; the secret is the client secret or PEM",
        },
        "tenant_id": {"type": "string", "minLength": 1},
        "client_id": {"type": "string", "minLength": 1, "description": "app id (or user-assigned identity id)"},
        "subscriptions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1},
        },
        "galleries": {
            "type": "array",
            "description": "galleries to read images from; default: every gallery of each subscription",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["resource_group", "gallery"],
                "properties": {
                    "resource_group": {"type": "string", "minLength": 1},
                    "gallery": {"type": "string", "minLength": 1},
                    "subscription": {"type": "string", "minLength": 1, "description": "default: every subscription"},
                },
            },
        },
        "base_url": {"type": "string", "format": "uri", "default": DEFAULT_BASE_URL},
        "connection_verify": {"type": "boolean", "default": True},
        "connection_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 10},
        "read_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 60},
        "retry_total": {"type": "integer", "minimum": 0, "default": 5},
        "retry_backoff_factor": {"type": "number", "minimum": 0, "default": 0.8},
    },
    "allOf": [
        {
            "if": {"properties": {"auth": {"enum": ["client_secret", "certificate"]}}},
            "then": {"required": ["tenant_id", "client_id"]},
        }
    ],
}


@register_connector
class AzureConnector(BaseConnector):
    """Discovers Azure Compute Gallery image versions and the machines running them, one scope per subscription."""

    slug: ClassVar[str] = "azure"
    label: ClassVar[str] = "Microsoft Azure"
    config_schema: ClassVar[dict[str, Any]] = CONFIG_SCHEMA
    sensitive_parameters: ClassVar[tuple[str, ...]] = ()  # the secret is a credential reference, never config

    def __init__(self, config: dict[str, Any], secret: str | None = None, *, credential: Any = None):
        super().__init__(config, secret)
        self._injected_credential = credential
        self._credential_obj: Any = None
        self._clients: dict[str, Any] = {}

    # -- construction (the one place each SDK object is built) --------------------------------------------------
    def _credential(self) -> Any:
        """Return the token credential: the injected one (tests), else the azure-identity class for ``auth``."""
        if self._injected_credential is not None:
            return self._injected_credential
        if self._credential_obj is None:
            self._credential_obj = build_credential(self.config, self.secret)
        return self._credential_obj

    def _client(self, subscription: str) -> Any:
        """Return the ComputeManagementClient of one subscription, with endpoint, TLS, timeouts and retries set."""
        if subscription not in self._clients:
            from azure.mgmt.compute import ComputeManagementClient

            cfg = self.config
            self._clients[subscription] = ComputeManagementClient(
                self._credential(),
                subscription,
                base_url=cfg.get("base_url") or DEFAULT_BASE_URL,
                credential_scopes=[_token_scope(cfg.get("base_url"))],
                connection_verify=cfg.get("connection_verify", True),
                connection_timeout=cfg.get("connection_timeout", 10),
                read_timeout=cfg.get("read_timeout", 60),
                retry_total=cfg.get("retry_total", 5),
                retry_backoff_factor=cfg.get("retry_backoff_factor", 0.8),
                raw_response_hook=check_list_envelope,
            )
        return self._clients[subscription]

    # -- BaseConnector -----------------------------------------------------------------------------------------
    def scopes(self) -> list[Scope]:
        """One scope per configured subscription (Azure scans are subscription-wide, so region is "")."""
        return [Scope(account=subscription) for subscription in self.config["subscriptions"]]

    def test_connection(self) -> str:
        """Read one page of VMs in every subscription; raise ConnectorError with the reason otherwise."""
        counts = []
        for scope in self.scopes():
            try:
                with _translated(scope):
                    page = next(self._client(scope.account).virtual_machines.list_all().by_page())
                    counts.append(len(list(page)))
            except ScopeFailed as exc:
                raise ConnectorError(str(exc)) from None
        return f"Azure: {len(counts)} subscription(s) reachable, {sum(counts)} VM(s) on the first page(s)"

    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        """Yield every gallery image version of the configured (or all) galleries of one subscription."""
        with _translated(scope):
            client = self._client(scope.account)
            for resource_group, gallery in self._galleries(scope.account, client):
                for definition in client.gallery_images.list_by_gallery(resource_group, gallery):
                    versions = client.gallery_image_versions.list_by_gallery_image(
                        resource_group, gallery, definition.name
                    )
                    for version in versions:
                        detailed = client.gallery_image_versions.get(  # the list never carries replication status
                            resource_group, gallery, definition.name, version.name, expand="ReplicationStatus"
                        )
                        yield image_from_version(scope.account, definition, detailed)

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        """Yield the scale-set VMs then the standalone VMs of one subscription (each machine once)."""
        with _translated(scope):
            client = self._client(scope.account)
            seen: set[str] = set()
            for asset in self._scale_set_assets(scope.account, client):
                seen.add(asset.instance_id)
                yield asset
            for asset in self._vm_assets(scope.account, client):
                if asset.instance_id not in seen:
                    yield asset

    # -- helpers -----------------------------------------------------------------------------------------------
    def _galleries(self, subscription: str, client: Any) -> Iterator[tuple[str, str]]:
        configured = self.config.get("galleries")
        if configured:
            for item in configured:
                if item.get("subscription", subscription).lower() == subscription.lower():
                    yield item["resource_group"], item["gallery"]
            return
        for gallery in client.galleries.list():
            yield resource_id_part(gallery.id, "resourceGroups"), gallery.name

    def _scale_set_assets(self, subscription: str, client: Any) -> Iterator[DiscoveredAsset]:
        for scale_set in client.virtual_machine_scale_sets.list_all():
            if text(scale_set.orchestration_mode).lower() == "flexible":
                continue  # flexible-mode members are ordinary VMs: virtual_machines.list_all reports them
            model_reference = _scale_set_image_reference(scale_set)
            resource_group = resource_id_part(scale_set.id, "resourceGroups")
            members = client.virtual_machine_scale_set_vms.list(resource_group, scale_set.name, expand="instanceView")
            for vm in members:
                yield build_asset(
                    subscription,
                    vm,
                    reference=image_reference_of(vm) or model_reference,
                    statuses=statuses_of(vm),
                    group_id=scale_set.id,
                    extra={
                        "scale_set": scale_set.name,
                        "scale_set_instance_id": vm.instance_id or "",
                        "latest_model_applied": vm.latest_model_applied,
                        "vm_size": _vm_size(vm),
                    },
                )

    def _vm_assets(self, subscription: str, client: Any) -> Iterator[DiscoveredAsset]:
        vms = list(client.virtual_machines.list_all())
        status_by_id = {normalise_resource_id(vm.id): statuses_of(vm) for vm in vms if statuses_of(vm)}
        if len(status_by_id) < len(vms):  # the model listing carries no instance view: one statusOnly pass
            for vm in client.virtual_machines.list_all(status_only="true"):
                status_by_id.setdefault(normalise_resource_id(vm.id), statuses_of(vm))
        for vm in vms:
            scale_set = vm.virtual_machine_scale_set
            yield build_asset(
                subscription,
                vm,
                reference=image_reference_of(vm),
                statuses=status_by_id.get(normalise_resource_id(vm.id)),
                group_id=scale_set.id if scale_set is not None else "",
                extra={"vm_size": _vm_size(vm)},
            )


def build_credential(config: dict[str, Any], secret: str | None) -> Any:
    """Build the azure-identity credential named by ``config["auth"]`` (the secret is the client secret or PEM)."""
    from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    auth = config.get("auth")
    if auth == "managed_identity":
        return ManagedIdentityCredential(client_id=config.get("client_id") or None)
    if auth not in ("client_secret", "certificate"):
        raise ConnectorError(f"unknown Azure auth kind {auth!r}; expected one of {', '.join(AUTH_KINDS)}")
    if not secret:
        raise ConnectorError(f"Azure auth {auth!r} needs a credential reference holding the secret")
    tenant, client_id = config.get("tenant_id"), config.get("client_id")
    if not tenant or not client_id:
        raise ConnectorError(f"Azure auth {auth!r} needs tenant_id and client_id")
    if auth == "client_secret":
        return ClientSecretCredential(tenant, client_id, secret)
    try:
        return CertificateCredential(tenant, client_id, certificate_data=secret.encode())
    except ValueError as exc:
        raise ConnectorError(f"the Azure certificate secret is not a usable PEM (certificate + key): {exc}") from None


def _token_scope(base_url: str | None) -> str:
    """ARM's token scope: the public cloud's unless ``base_url`` names another cloud's ARM endpoint."""
    host = (base_url or DEFAULT_BASE_URL).rstrip("/")
    return f"{host if host.startswith('https://management.') else DEFAULT_BASE_URL}/.default"


def _scale_set_image_reference(scale_set: Any) -> Any:
    profile = scale_set.virtual_machine_profile
    storage = profile.storage_profile if profile is not None else None
    return storage.image_reference if storage is not None else None


def _vm_size(machine: Any) -> str:
    if getattr(machine, "sku", None) is not None and machine.sku.name:
        return text(machine.sku.name)
    hardware = machine.hardware_profile
    return text(hardware.vm_size) if hardware is not None else ""


@contextmanager
def _translated(scope: Scope) -> Iterator[None]:
    """Turn any SDK / transport / payload failure inside ``scope`` into ScopeFailed with a readable reason."""
    try:
        yield
    except ScopeFailed:
        raise
    except ConnectorError as exc:
        raise ScopeFailed(scope, str(exc)) from exc
    except (AzureError, json.JSONDecodeError) as exc:
        raise ScopeFailed(scope, describe_error(exc)) from exc
    except (AttributeError, TypeError, KeyError, ValueError) as exc:  # valid JSON in a shape ARM never sends
        raise ScopeFailed(scope, f"unexpected response shape from Azure: {type(exc).__name__}: {exc}") from exc


def _is_list_path(path: str) -> bool:
    """ARM paths alternate type/name after ``providers/<Namespace>``: an odd count of segments names a collection."""
    segments = [part for part in path.split("/") if part]
    lowered = [part.lower() for part in segments]
    if "providers" not in lowered:
        return False
    after = segments[len(lowered) - lowered[::-1].index("providers") :]
    return len(after) >= 2 and (len(after) - 1) % 2 == 1


def check_list_envelope(pipeline_response: Any) -> None:
    """``raw_response_hook``: a successful GET of an ARM collection must be a JSON object with a ``value`` list.

    The SDK's pager reads a missing ``value`` as an empty page: an HTML portal page, ``{}`` or a cut body from a
    proxy would otherwise look like a subscription without machines.
    """
    request, response = pipeline_response.http_request, pipeline_response.http_response
    if request.method != "GET" or response.status_code != 200:
        return
    from urllib.parse import urlparse

    path = urlparse(request.url).path
    if not _is_list_path(path):
        return
    what = f"GET {path}"
    try:
        body = json.loads(response.text() or "null")
    except ValueError:
        start = " ".join((response.text() or "")[:40].split())
        raise InvalidResponse(f"malformed response from Azure: {what} is not JSON (starts with {start!r})") from None
    if not isinstance(body, dict):
        raise InvalidResponse(f"unexpected response shape from Azure: {what} answered a {type(body).__name__}")
    require_answer(body, shape_keys=("value",), what=f"unexpected response shape from Azure: {what}")
    if not isinstance(body["value"], list):
        raise InvalidResponse(f"unexpected response shape from Azure: {what} has a value that is not a list")


def describe_error(exc: BaseException) -> str:
    """A one-line, secret-free reason for an Azure failure, naming the kind of problem first."""
    if isinstance(exc, ClientAuthenticationError):
        status = f" (HTTP {exc.status_code})" if getattr(exc, "status_code", None) else ""
        return f"authentication failed{status}: {_message(exc)}"
    if isinstance(exc, HttpResponseError) and exc.status_code == 403:
        return f"access refused (HTTP 403): {_message(exc)}"
    if isinstance(exc, (DecodeError, DeserializationError, json.JSONDecodeError)):
        return f"malformed response from Azure: {_message(exc)}"
    if isinstance(exc, HttpResponseError):
        return f"Azure API error (HTTP {exc.status_code}): {_message(exc)}"
    if isinstance(exc, ServiceRequestError):
        return f"cannot reach the Azure endpoint: {_message(exc)}"
    if isinstance(exc, ServiceResponseError):
        return f"no usable response from the Azure endpoint: {_message(exc)}"
    return f"Azure error: {_message(exc)}"


def _message(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "code", None):
        return f"{error.code}: {error.message}"
    message = str(getattr(exc, "message", "") or exc)
    return message.splitlines()[0] if message else type(exc).__name__
