"""vCenter targets, their passwords, the one place a pyvmomi session is opened, and readable error messages.

Every failure a vCenter can produce (refused login, closed port, timeout, TLS, SOAP faults) is turned into one short
sentence here, so the connector raises ``ScopeFailed``/``ConnectorError`` and never a raw SDK or socket exception.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any
from xml.parsers.expat import ExpatError

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from .base import ConnectorError

DEFAULT_PORT = 443
DEFAULT_TIMEOUT_SECONDS = 30
SERVICE_VERSIONS_PATH = "/sdk/vimServiceVersions.xml"

# What a vCenter session can raise that is the vCenter's (or the network's) fault rather than a bug of ours.
VCENTER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, unreachable, timeouts (socket.timeout is TimeoutError), ssl.SSLError
    http.client.HTTPException,
    vmodl.MethodFault,
    ExpatError,
)


@dataclasses.dataclass(frozen=True)
class VcenterTarget:
    """One configured vCenter with the schema's defaults applied."""

    host: str
    user: str
    port: int = DEFAULT_PORT
    verify_ssl: bool = True
    datacenters: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> VcenterTarget:
        return cls(
            host=entry["host"],
            user=entry["user"],
            port=int(entry.get("port", DEFAULT_PORT)),
            verify_ssl=bool(entry.get("verify_ssl", True)),
            datacenters=tuple(entry.get("datacenters") or ()),
        )

    @property
    def account(self) -> str:
        """The scope account: ``host`` on the default port, ``host:port`` otherwise."""
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"


def password_for(secret: str | None, target: VcenterTarget) -> str:
    """The target's password: the secret itself, or its entry in a JSON object keyed by ``host:port`` or ``host``."""
    if not secret:
        raise ConnectorError("no password: set the connector's credential reference to the service-account password")
    stripped = secret.strip()
    if stripped.startswith("{"):
        try:
            passwords = json.loads(stripped)
        except ValueError:
            raise ConnectorError("the credential looks like a JSON object but does not parse") from None
        if not isinstance(passwords, dict):
            raise ConnectorError("the credential JSON must be an object {host: password}")
        for key in (target.account, f"{target.host}:{target.port}", target.host):
            if isinstance(passwords.get(key), str):
                return passwords[key]
        raise ConnectorError(f"the credential has no password for {target.account}")
    return secret


def ssl_context(target: VcenterTarget) -> ssl.SSLContext:
    """The TLS context pyvmomi would use: the system CAs, or no verification when ``verify_ssl`` is false."""
    return ssl.create_default_context() if target.verify_ssl else ssl._create_unverified_context()  # noqa: S323


def probe(target: VcenterTarget, timeout: float) -> None:
    """GET ``/sdk/vimServiceVersions.xml`` with a timeout; raise unless the target serves the vSphere API.

    SmartConnect fetches this document itself *without* any timeout (pyvmomi 9.1 ``__GetElementTree``), so a vCenter
    that accepts TCP but never answers would hang a scan forever; this bounded probe fails first instead.
    """
    connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=ssl_context(target))
    try:
        connection.request("GET", SERVICE_VERSIONS_PATH)
        status = connection.getresponse().status
    finally:
        connection.close()
    if status != 200:
        where = f"{target.host}:{target.port}"
        raise ConnectorError(f"{where} does not serve the vSphere API (HTTP {status} on {SERVICE_VERSIONS_PATH})")


@contextlib.contextmanager
def vcenter_session(target: VcenterTarget, password: str, timeout: float) -> Iterator[vim.ServiceInstance]:
    """Log in to one vCenter (the only SmartConnect of the connector) and always log out again."""
    probe(target, timeout)
    try:
        service_instance = SmartConnect(
            host=target.host,
            port=target.port,
            user=target.user,
            pwd=password,
            disableSslCertValidation=not target.verify_ssl,
            httpConnectionTimeout=timeout,  # bounds each socket operation; connectionPoolTimeout only reaps idle ones
        )
    except VCENTER_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - SmartConnect raises a bare Exception for "down or not a VIM server"
        raise ConnectorError(f"{target.host}:{target.port}: {exc}") from None
    try:
        yield service_instance
    finally:
        with contextlib.suppress(*VCENTER_ERRORS):
            Disconnect(service_instance)


def describe_error(exc: BaseException, target: VcenterTarget, timeout: float) -> str:
    """One readable sentence for a failure talking to ``target`` (never includes the password)."""
    where = f"{target.host}:{target.port}"
    if isinstance(exc, vim.fault.InvalidLogin):
        return f"authentication failed: vCenter {where} refused the login of user {target.user!r}"
    if isinstance(exc, vim.fault.NoPermission):
        return f"permission denied for user {target.user!r} on {where}: {exc.msg or 'missing privilege'}"
    if isinstance(exc, vmodl.MethodFault):
        return f"vCenter {where} answered with fault {type(exc).__name__.rsplit('.', 1)[-1]}: {exc.msg or ''}".strip()
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} is not trusted ({exc.verify_message}); fix the CA or set verify_ssl false"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (nothing listens on that port)"
    if isinstance(exc, TimeoutError):  # socket.timeout is an alias of TimeoutError
        return f"timed out after {timeout:g} s talking to {where}"
    if isinstance(exc, socket.gaierror):
        return f"host name {target.host!r} does not resolve ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error talking to {where}: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {exc.strerror or exc}"
    if isinstance(exc, (http.client.HTTPException, ExpatError)):
        return f"{where} did not answer like a vCenter ({type(exc).__name__}: {exc})"
    return f"{where}: {exc}"
