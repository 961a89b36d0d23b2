"""One call to the API, whatever carries it: ``RemoteTransport`` (HTTP with a bearer token) or the server's
in-process transport (``qlrf.cli_local``). Both answer a ``Reply``; ``Api`` turns error replies into ``ApiError``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from .errors import ApiError, ClientError

API = "/api/v1"


@dataclass
class Reply:
    status: int
    data: Any
    headers: dict = field(default_factory=dict)


class Transport(Protocol):
    def request(self, method: str, path: str, *, params=None, json_body=None, body: bytes | None = None,
                headers: dict | None = None) -> Reply: ...  # fmt: skip


def decode(content: bytes, content_type: str) -> Any:
    if "json" in (content_type or "") and content:
        try:
            return json.loads(content)
        except ValueError:
            return None
    return content.decode("utf-8", "replace") if content else None


class RemoteTransport:
    """HTTP to ``url``/api/v1 with ``Authorization: Bearer``; a refused or timed-out connection is one line."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0):
        import requests  # the client's one HTTP dependency, imported when a call is made

        self._requests = requests
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json",
                                     "User-Agent": "qlrf-client"})  # fmt: skip
        self.url, self.timeout = url, timeout

    def request(self, method, path, *, params=None, json_body=None, body=None, headers=None) -> Reply:
        target = f"{self.url}{API}{path}"
        try:
            response = self.session.request(method, target, params=params, json=json_body, data=body,
                                            headers=headers, timeout=self.timeout, allow_redirects=False)  # fmt: skip
        except self._requests.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "cannot connect"
            raise ClientError(f"{method} {path}: {reason} ({self.url}); is the service running?") from None
        except self._requests.Timeout:
            raise ClientError(f"{method} {path}: no answer from {self.url} within {self.timeout:.0f} s") from None
        except self._requests.RequestException as exc:
            raise ClientError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        return Reply(response.status_code, decode(response.content, response.headers.get("Content-Type", "")),
                     dict(response.headers))  # fmt: skip


def api_path(url_or_path: str) -> str:
    """The part after /api/v1 of an absolute URL or path the API handed back (``next``, ``Location``)."""
    path = urlsplit(url_or_path)
    rest = path.path + (f"?{path.query}" if path.query else "")
    return rest[len(API) :] if rest.startswith(API) else rest


class Api:
    """The calls commands make, over either transport; every non-2xx reply raises ``ApiError``."""

    def __init__(self, transport: Transport, organization: str | None = None, progress=None):
        self.transport, self.organization = transport, organization
        self.progress = progress or (lambda message: None)

    def call(self, method: str, path: str, **kwargs) -> Reply:
        reply = self.transport.request(method, path, **kwargs)
        if reply.status >= 400:
            data = reply.data if isinstance(reply.data, dict) else {}
            detail = data.get("detail") or (reply.data if isinstance(reply.data, str) else "") or "request failed"
            raise ApiError(method, path.split("?")[0], reply.status, str(data.get("code") or "error"),
                           str(detail).strip().splitlines()[0] if str(detail).strip() else "request failed",
                           data.get("errors"))  # fmt: skip
        return reply

    def get(self, path: str, params=None) -> Any:
        return self.call("GET", path, params=_clean(params)).data

    def post(self, path: str, json_body=None, **kwargs) -> Reply:
        return self.call("POST", path, json_body=json_body, **kwargs)

    def org_params(self, **params) -> dict:
        return _clean({"organization": self.organization, **params})

    def list(self, path: str, params=None) -> list:
        """Every row of a paged list (follows ``next``)."""
        rows, page = [], self.get(path, {**(params or {}), "limit": 1000})
        while True:
            if isinstance(page, list):
                return rows + page
            rows.extend(page.get("results", []))
            if not page.get("next"):
                return rows
            page = self.get(api_path(page["next"]))

    def wait(self, path: str, *, done, label: str, interval: float = 0.5, timeout: float = 3600) -> dict:
        """Poll ``path`` until ``done(row)``; progress lines go to the progress callback."""
        started, last = time.monotonic(), None
        while True:
            row = self.get(path)
            state = (row.get("status"), row.get("progress_pct"))
            if state != last:
                pct = f" {row['progress_pct']}%" if row.get("progress_pct") is not None else ""
                self.progress(f"{label}: {row.get('status')}{pct}")
                last = state
            if done(row):
                return row
            if time.monotonic() - started > timeout:
                raise ClientError(f"{label}: still {row.get('status')} after {timeout:.0f} s")
            time.sleep(interval)


def _clean(params: dict | None) -> dict | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if value not in (None, "", [])}
