"""The Google Cloud connector: Compute Engine images and instances, one scope per project.

Helpers live in sibling modules: ``gcp_refs`` (canonical references, states, versions), ``gcp_clients`` (credentials,
clients, retry, error wording), ``gcp_images``, ``gcp_templates`` and ``gcp_assets``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from google.auth import credentials as auth_credentials

from .base import (
    BaseConnector,
    ConnectorError,
    DiscoveredAsset,
    DiscoveredImage,
    Scope,
    ScopeFailed,
    register_connector,
)
from .gcp_assets import AssetCollector
from .gcp_clients import (
    EXPECTED_ERRORS,
    CallOptions,
    GcpClients,
    build_clients,
    build_retry,
    describe_error,
    load_credentials,
)
from .gcp_images import list_project_images
from .gcp_refs import normalise_image_ref

__all__ = ["CONFIG_SCHEMA", "GcpConnector", "normalise_image_ref"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_DEADLINE = 60.0
PROJECT_ID_PATTERN = r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$"  # incl. domain-scoped ids

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Google Cloud connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["projects"],
    "properties": {
        "projects": {
            "description": "Project ids whose instances (and images) are scanned; one scope each.",
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": PROJECT_ID_PATTERN},
        },
        "image_projects": {
            "description": "Extra projects whose images are read (e.g. a golden-image project); one scope each.",
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": PROJECT_ID_PATTERN},
            "default": [],
        },
        "api_endpoint": {
            "description": "Compute API endpoint override (tests: http://127.0.0.1:PORT).",
            "type": "string",
            "pattern": "^https?://[^\\s/]+(/.*)?$",
        },
        "timeout": {
            "description": "Timeout of each HTTP call, in seconds.",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 600,
            "default": DEFAULT_TIMEOUT,
        },
        "retry_deadline": {
            "description": "How long 429/503 answers are retried (with backoff) before the project fails, in seconds.",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 3600,
            "default": DEFAULT_RETRY_DEADLINE,
        },
    },
}


@register_connector
class GcpConnector(BaseConnector):
    """Compute Engine: images per project, and instances with their MIG, template and concrete boot image."""

    slug: ClassVar[str] = "gcp"
    label: ClassVar[str] = "Google Cloud"
    config_schema: ClassVar[dict[str, Any]] = CONFIG_SCHEMA

    def __init__(
        self,
        config: dict[str, Any],
        secret: str | None = None,
        *,
        credentials: auth_credentials.Credentials | None = None,
    ):
        super().__init__(config, secret)
        self._credentials = credentials
        self._clients: GcpClients | None = None
        self.projects: list[str] = list(config["projects"])
        self.image_projects = [p for p in config.get("image_projects", []) if p not in self.projects]
        self.options = CallOptions(
            timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
            retry=build_retry(float(config.get("retry_deadline", DEFAULT_RETRY_DEADLINE))),
        )

    def clients(self) -> GcpClients:
        """The compute_v1 clients, built on first use (loading credentials can fail: ConnectorError)."""
        if self._clients is None:
            credentials = self._credentials or load_credentials(self.secret)
            self._clients = build_clients(credentials, self.config.get("api_endpoint", ""))
        return self._clients

    def scopes(self) -> list[Scope]:
        """One scope per project, then one per extra image project (those yield images only)."""
        return [Scope(account=project) for project in [*self.projects, *self.image_projects]]

    def test_connection(self) -> str:
        """List one page of images in every project; raise ConnectorError naming the first project that fails."""
        clients = self.clients()
        for project in [*self.projects, *self.image_projects]:
            try:
                clients.images.list(request={"project": project, "max_results": 1}, **self.options.kwargs())
            except EXPECTED_ERRORS as exc:
                raise ConnectorError(f"project {project}: {describe_error(exc)}") from exc
        count = len(self.projects) + len(self.image_projects)
        return f"Google Cloud: images readable in {count} project(s)"

    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        """Yield every image of the scope's project, each family's newest usable image flagged family_current."""
        self._check_scope(scope)
        try:
            images = list_project_images(self.clients(), self.options, scope.account)
        except (*EXPECTED_ERRORS, ValueError) as exc:
            raise ScopeFailed(scope, describe_error(exc)) from exc
        yield from images

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        """Yield every instance of the scope's project (an image-only project has none)."""
        self._check_scope(scope)
        if scope.account not in self.projects:
            return
        try:
            yield from AssetCollector(self.clients(), self.options, scope.account).iter_assets()
        except ScopeFailed:
            raise
        except (*EXPECTED_ERRORS, ValueError) as exc:
            raise ScopeFailed(scope, describe_error(exc)) from exc

    def _check_scope(self, scope: Scope) -> None:
        if scope not in self.scopes():
            raise ScopeFailed(scope, "not a project of this connector")
