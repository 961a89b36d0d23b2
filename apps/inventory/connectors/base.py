"""The connector interface: what every platform connector yields, and how connectors are registered.

Connectors discover; services persist (DESIGN.md invariant 3). A connector never touches the ORM: it reads its
validated ``config`` and a resolved ``secret`` and yields the plain dataclasses below, scope by scope. The inventory
services deduplicate, compare fingerprints and upsert in bulk.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any, ClassVar

__all__ = [
    "AssetEdge",
    "BaseConnector",
    "ConnectorError",
    "DiscoveredAsset",
    "DiscoveredImage",
    "InvalidResponse",
    "Scope",
    "ScopeFailed",
    "get_connector_class",
    "register_connector",
    "registered_connectors",
    "require_answer",
]


class ConnectorError(Exception):
    """A readable failure of a connector (bad config, unreachable endpoint, access refused)."""


class ScopeFailed(ConnectorError):
    """One scope (account + region, subscription, project, vCenter) could not be scanned completely.

    Raised from inside ``iter_assets``/``iter_images`` for the scope being iterated; the sync service records the
    reason on the scan run, removes nothing in that scope, and continues with the next one.
    """

    def __init__(self, scope: Scope, reason: str):
        super().__init__(f"{scope.key}: {reason}")
        self.scope = scope
        self.reason = reason


class InvalidResponse(ConnectorError):
    """A page that is not a real answer of the platform's API (an HTML portal page, an empty or cut body, JSON of
    the wrong shape). The scope it came from failed: it must never be read as "this scope is empty"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def require_answer(page: Any, *, shape_keys: tuple[str, ...], what: str, request_id: str | None = None) -> Any:
    """Return ``page`` when it carries every key of the operation's result shape, else raise InvalidResponse.

    ``page`` is the SDK's parsed page (a dict, or a proto-plus/msrest message supporting ``in``). ``request_id``
    names a nested key path ("ResponseMetadata.RequestId") that a real answer always carries. A missing key means a
    proxy, portal or broken endpoint answered in the platform's place: one line says which key is missing.
    """
    if page is None:
        raise InvalidResponse(f"{what}: no answer body (not a real API response)")
    try:
        missing = [key for key in shape_keys if key not in page]
    except TypeError:
        raise InvalidResponse(f"{what}: the answer is a {type(page).__name__}, not the API's result object") from None
    if missing:
        raise InvalidResponse(f"{what}: the answer has no {', '.join(missing)} (not a real API response)")
    if request_id:
        node: Any = page
        for part in request_id.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not node:
            raise InvalidResponse(f"{what}: the answer carries no {request_id} (not a real API response)")
    return page


@dataclasses.dataclass(frozen=True)
class Scope:
    """The unit a scan completes or fails: e.g. AWS account + region, an Azure subscription, a GCP project."""

    account: str
    region: str = ""

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}" if self.region else self.account


@dataclasses.dataclass(frozen=True)
class DiscoveredImage:
    """An image as the platform names it (AMI, gallery image version, GCP image, vSphere template/library item)."""

    platform: str
    account: str
    region: str
    image_ref: str  # the platform's own id: ami-…, /subscriptions/…/versions/1.2.3, a GCP selfLink, a vSphere id
    name: str = ""
    family: str = ""  # the platform's family/definition name when it has one
    version: str = ""  # extracted from tags/name/definition; "" when it cannot be parsed
    created_at: str = ""  # ISO 8601 as the platform reports it
    state: str = ""
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AssetEdge:
    """One edge of the asset graph: ``source`` → ``target``, e.g. instance → group, group → image."""

    source_kind: str  # "instance" | "group" | "template" | "image"
    source_ref: str
    target_kind: str
    target_ref: str
    label: str = ""  # e.g. "member_of", "launched_from", "uses_template"


@dataclasses.dataclass(frozen=True)
class DiscoveredAsset:
    """A running (or stopped) machine normalised across platforms."""

    platform: str  # "aws" | "azure" | "gcp" | "vsphere"
    account: str  # AWS account id, Azure subscription id, GCP project id, vCenter host
    region: str  # AWS region, Azure location, GCP zone's region, vSphere datacenter
    instance_id: str
    name: str = ""
    state: str = ""  # normalised: running | stopped | deallocated | suspended | unknown
    image_ref: str = ""  # the concrete image the machine runs (never a "latest" alias)
    image_version: str = ""  # the version when the platform states it (Azure exactVersion, a vSphere annotation)
    zone: str = ""
    site_hint: str = ""  # e.g. datacenter/cluster for vSphere; region otherwise
    group_ref: str = ""  # ASG name / VMSS id / MIG selfLink / vSphere folder
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    edges: tuple[AssetEdge, ...] = ()
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def fingerprint(self) -> str:
        """A stable digest of everything the inventory stores about the asset (not timestamps)."""
        # Shallow: asdict() deep-copies every field only for json.dumps to read it; same JSON, same digest.
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["edges"] = [dataclasses.asdict(edge) for edge in self.edges]
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


class BaseConnector(abc.ABC):
    """One class per platform. Subclasses set ``slug``, ``label``, ``config_schema`` and implement the iterators.

    ``config`` has been validated against ``config_schema`` by the caller; ``secret`` is the resolved credential
    reference (a string, or ``None`` when the platform's ambient credentials are used).
    """

    slug: ClassVar[str] = ""
    label: ClassVar[str] = ""
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    sensitive_parameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: dict[str, Any], secret: str | None = None):
        self.config = config
        self.secret = secret

    @abc.abstractmethod
    def scopes(self) -> list[Scope]:
        """Every scope this connector covers, known before scanning (so an unfinished scope is detectable)."""

    @abc.abstractmethod
    def test_connection(self) -> str:
        """Check credentials and reachability; return a one-line description, raise ConnectorError otherwise."""

    @abc.abstractmethod
    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        """Yield the images visible in one scope; raise ScopeFailed when the scope cannot be completed."""

    @abc.abstractmethod
    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        """Yield the machines of one scope; raise ScopeFailed when the scope cannot be completed."""


_REGISTRY: dict[str, type[BaseConnector]] = {}


def register_connector(cls: type[BaseConnector]) -> type[BaseConnector]:
    """Class decorator adding a connector to the registry; a duplicate slug raises."""
    if not cls.slug:
        raise ValueError(f"{cls.__name__} has no slug")
    if cls.slug in _REGISTRY and _REGISTRY[cls.slug] is not cls:
        raise ValueError(f"connector slug {cls.slug!r} is already registered by {_REGISTRY[cls.slug].__name__}")
    _REGISTRY[cls.slug] = cls
    return cls


def get_connector_class(slug: str) -> type[BaseConnector]:
    """Return the connector class for ``slug``; raise ConnectorError for an unknown platform."""
    from . import load

    load(slug)
    try:
        return _REGISTRY[slug]
    except KeyError:
        raise ConnectorError(f"unknown connector platform {slug!r}") from None


def registered_connectors() -> dict[str, type[BaseConnector]]:
    from . import load_all

    load_all()
    return dict(_REGISTRY)
