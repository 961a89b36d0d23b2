"""Credentials, the compute_v1 clients, call options and error wording of the GCP connector (built in one place)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

import google.auth
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry, if_exception_type
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions
from google.cloud import compute_v1
from google.oauth2 import service_account
from google.protobuf import json_format

from .base import ConnectorError

__all__ = [
    "EXPECTED_ERRORS",
    "READONLY_SCOPES",
    "CallOptions",
    "GcpClients",
    "build_clients",
    "build_retry",
    "describe_error",
    "load_credentials",
]

READONLY_SCOPES = ("https://www.googleapis.com/auth/compute.readonly",)
RETRYABLE = (api_exceptions.TooManyRequests, api_exceptions.ServiceUnavailable)  # 429 (incl. ResourceExhausted), 503

# What a call to the Compute API can raise when the remote side misbehaves; anything here becomes a readable
# ScopeFailed/ConnectorError, never a raw exception.
EXPECTED_ERRORS = (
    api_exceptions.GoogleAPIError,
    json_format.ParseError,
    requests.RequestException,
    auth_exceptions.GoogleAuthError,
    ConnectorError,
)


@dataclasses.dataclass(frozen=True)
class CallOptions:
    """The explicit timeout and retry every Compute call is made with (DESIGN.md invariant 7)."""

    timeout: float
    retry: Retry

    def kwargs(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "retry": self.retry}


@dataclasses.dataclass(frozen=True)
class GcpClients:
    """Every compute_v1 client the connector uses, sharing one credentials object, transport and endpoint."""

    images: compute_v1.ImagesClient
    instances: compute_v1.InstancesClient
    disks: compute_v1.DisksClient
    igms: compute_v1.InstanceGroupManagersClient
    region_igms: compute_v1.RegionInstanceGroupManagersClient
    templates: compute_v1.InstanceTemplatesClient
    region_templates: compute_v1.RegionInstanceTemplatesClient


def build_retry(deadline: float) -> Retry:
    """Retry 429/503 with jittered exponential backoff until ``deadline`` seconds have passed."""
    initial = min(1.0, max(deadline / 10.0, 0.01))
    maximum = max(initial, min(32.0, deadline / 2.0))
    return Retry(
        predicate=if_exception_type(*RETRYABLE), initial=initial, maximum=maximum, multiplier=2.0, timeout=deadline
    )


def build_clients(credentials: auth_credentials.Credentials, api_endpoint: str = "") -> GcpClients:
    """Build all clients with the REST transport (and a custom endpoint when configured, e.g. a test server)."""
    kwargs: dict[str, Any] = {"credentials": credentials, "transport": "rest"}
    if api_endpoint:
        kwargs["client_options"] = ClientOptions(api_endpoint=api_endpoint)
    return GcpClients(
        images=compute_v1.ImagesClient(**kwargs),
        instances=compute_v1.InstancesClient(**kwargs),
        disks=compute_v1.DisksClient(**kwargs),
        igms=compute_v1.InstanceGroupManagersClient(**kwargs),
        region_igms=compute_v1.RegionInstanceGroupManagersClient(**kwargs),
        templates=compute_v1.InstanceTemplatesClient(**kwargs),
        region_templates=compute_v1.RegionInstanceTemplatesClient(**kwargs),
    )


def load_credentials(secret: str | None) -> auth_credentials.Credentials:
    """Application default credentials (Workload Identity) when ``secret`` is empty, else a service-account key JSON.

    Error messages never repeat the secret, only which part of it is wrong.
    """
    if not secret:
        try:
            credentials, _project = google.auth.default(scopes=READONLY_SCOPES)
        except auth_exceptions.DefaultCredentialsError as exc:
            raise ConnectorError(f"no application default credentials found: {exc}") from None
        return credentials
    try:
        info = json.loads(secret)
    except ValueError:
        raise ConnectorError("the GCP secret is not JSON (expected a service-account key file)") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConnectorError('the GCP secret is not a service-account key (no "type": "service_account")')
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=READONLY_SCOPES)
    except (ValueError, KeyError, TypeError) as exc:
        missing = [key for key in ("client_email", "private_key", "token_uri") if not info.get(key)]
        detail = f"missing {', '.join(missing)}" if missing else f"unusable private key ({type(exc).__name__})"
        raise ConnectorError(f"the GCP service-account key cannot be loaded: {detail}") from None


def _describe_call_error(exc: api_exceptions.GoogleAPICallError) -> str:
    """``HTTP 403 Forbidden on GET /compute/v1/projects/p/global/images: <the API's message>`` (no host, no query)."""
    response = exc.response if isinstance(exc.response, requests.Response) else None
    message = exc.message
    try:
        message = response.json()["error"]["message"] if response is not None else message
    except (ValueError, KeyError, TypeError):
        pass
    request = response.request if response is not None else None
    where = f" on {request.method} {urlsplit(request.url).path}" if request is not None and request.url else ""
    status = f"HTTP {exc.code} " if exc.code else ""
    return f"{status}{type(exc).__name__}{where}: {message}"


def describe_error(exc: BaseException) -> str:
    """One readable line for a failed Compute call (HTTP status, error class and the API's own message)."""
    if isinstance(exc, api_exceptions.RetryError):
        cause = exc.cause
        return f"gave up after retrying: {describe_error(cause)}" if cause else f"gave up after retrying: {exc}"
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        return _describe_call_error(exc)
    if isinstance(exc, json_format.ParseError):
        return f"malformed response from the Compute API: {exc}"
    if isinstance(exc, requests.RequestException):
        return f"cannot reach the Compute API: {type(exc).__name__}: {exc}"
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return f"authentication failed: {exc}"
    return str(exc) or type(exc).__name__
