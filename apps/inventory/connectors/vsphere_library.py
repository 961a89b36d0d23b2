"""A small client for vCenter's vAPI REST content library API (``/rest/com/vmware/content/library…``).

pyvmomi speaks only SOAP; content libraries live in the vAPI REST API. The client logs in with HTTP basic auth to
``/rest/com/vmware/cis/session``, sends the session id header on each call, and logs out when closed. Failures become
``ConnectorError`` with a readable message.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .base import ConnectorError
from .vsphere_session import VcenterTarget
from .vsphere_versions import ImageVersion, parse_annotation

SESSION_PATH = "/rest/com/vmware/cis/session"
LIBRARY_PATH = "/rest/com/vmware/content/library"
ITEM_PATH = "/rest/com/vmware/content/library/item"
SESSION_HEADER = "vmware-api-session-id"


class ContentLibraryClient:
    """Read-only access to content libraries and their items on one vCenter; use as a context manager."""

    def __init__(self, target: VcenterTarget, password: str, timeout: float):
        self._target = target
        self._password = password
        self._timeout = timeout
        self._base = f"https://{target.host}:{target.port}"
        self._context = ssl.create_default_context()
        if not target.verify_ssl:
            self._context.check_hostname = False
            self._context.verify_mode = ssl.CERT_NONE
        self._session_id = ""

    def __enter__(self) -> ContentLibraryClient:
        basic = base64.b64encode(f"{self._target.user}:{self._password}".encode()).decode()
        self._session_id = str(self._call("POST", SESSION_PATH, {"Authorization": f"Basic {basic}"}))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._session_id:
            try:
                self._call("DELETE", SESSION_PATH)
            except ConnectorError:
                pass  # the session expires on its own; a failed logout must not hide the real outcome
            self._session_id = ""

    def libraries(self) -> list[dict[str, Any]]:
        """Every content library (local and subscribed) with its name."""
        return [self._call("GET", f"{LIBRARY_PATH}/id:{_quote(lid)}") for lid in self._call("GET", LIBRARY_PATH) or []]

    def item_ids(self, library_id: str) -> list[str]:
        """The ids of the items of one library."""
        return list(self._call("GET", f"{ITEM_PATH}?library_id={_quote(library_id)}") or [])

    def item(self, item_id: str) -> dict[str, Any] | None:
        """One library item, or None when no item has that id."""
        try:
            return self._call("GET", f"{ITEM_PATH}/id:{_quote(item_id)}")
        except _NotFound:
            return None

    def _call(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        url = self._base + path  # always https://<configured vCenter>/rest/...
        request = urllib.request.Request(url, method=method, headers={"Accept": "application/json"})  # noqa: S310
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if self._session_id:
            request.add_header(SESSION_HEADER, self._session_id)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, path) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectorError(f"content library API at {self._base} unreachable: {reason}") from None
        try:
            return json.loads(body)["value"] if body else None
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(f"content library API at {self._base} sent a body that is not vAPI JSON") from None

    def _http_error(self, exc: urllib.error.HTTPError, path: str) -> ConnectorError:
        if exc.code == 401:
            return ConnectorError(
                f"authentication failed: the vAPI REST API of {self._base} refused user {self._target.user!r}"
            )
        if exc.code == 403:
            return ConnectorError(f"permission denied reading content libraries on {self._base}")
        if exc.code == 404 and path.startswith(ITEM_PATH + "/id:"):
            return _NotFound(path)
        if exc.code == 404:
            return ConnectorError(f"{self._base} has no vAPI REST content library API (404 on {path.split('?')[0]})")
        return ConnectorError(f"content library API at {self._base} answered HTTP {exc.code} on {path.split('?')[0]}")


class _NotFound(ConnectorError):
    """A library item id that does not exist (a VM can still reference a deleted item)."""


def item_version(item: dict[str, Any], pattern: re.Pattern[str]) -> ImageVersion:
    """Family/version of a library item: its description's ``qlrf.image=`` line, else a ``family@version`` name."""
    parsed = parse_annotation(item.get("description") or "", pattern)
    if parsed is None and "@" in (item.get("name") or ""):
        family, _, version = item["name"].partition("@")
        parsed = (family, version)
    family, version = parsed or (item.get("name") or "", "")
    return ImageVersion(family, version, "content_library", library_item=item.get("id") or "")


def _quote(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")
