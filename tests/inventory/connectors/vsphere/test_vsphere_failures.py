"""A failing vCenter fails only its own scope, with a readable reason (refused, login, timeout, TLS, no password)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from apps.inventory.connectors.base import ConnectorError, Scope, ScopeFailed
from apps.inventory.connectors.vsphere import VsphereConnector
from apps.inventory.credentials import resolve_secret


def vcenter(host: str, port: int, user: str, **extra: object) -> dict[str, object]:
    return {"host": host, "port": port, "user": user, "verify_ssl": False, **extra}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) but never answers: a hung vCenter."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_closed_port_fails_only_its_scope(
    vcsim: tuple[str, int], fleet: dict[str, str], closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QLRF_TEST_VSPHERE_PASSWORD", fleet["password"])
    secret = resolve_secret("env:QLRF_TEST_VSPHERE_PASSWORD")
    config = {"vcenters": [vcenter("127.0.0.1", closed_port, fleet["user"]), vcenter(*vcsim, fleet["user"])]}
    connector = VsphereConnector(config, secret)
    dead, alive = connector.scopes()
    assert (dead, alive) == (Scope(f"127.0.0.1:{closed_port}"), Scope(f"127.0.0.1:{vcsim[1]}"))
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(dead))
    assert failed.value.scope == dead
    assert failed.value.reason == f"connection refused by 127.0.0.1:{closed_port} (nothing listens on that port)"
    with pytest.raises(ScopeFailed):
        list(connector.iter_images(dead))
    assert len(list(connector.iter_assets(alive))) == 8
    with pytest.raises(ConnectorError, match="connection refused"):
        connector.test_connection()


def test_wrong_password_is_an_authentication_failure(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = VsphereConnector({"vcenters": [vcenter(*vcsim, fleet["user"])]}, "not-the-password")
    (scope,) = connector.scopes()
    expected = f"authentication failed: vCenter 127.0.0.1:{vcsim[1]} refused the login of user 'qlrf-svc'"
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(scope))
    assert failed.value.reason == expected
    assert "not-the-password" not in str(failed.value)
    with pytest.raises(ScopeFailed, match="authentication failed"):
        list(connector.iter_images(scope))
    with pytest.raises(ConnectorError) as refused:
        connector.test_connection()
    assert str(refused.value) == expected


def test_per_host_passwords_from_a_json_secret(vcsim: tuple[str, int], fleet: dict[str, str], closed_port: int) -> None:
    host, port = vcsim
    secret = json.dumps({f"{host}:{port}": fleet["password"], "other.example": "x"})
    config = {"vcenters": [vcenter(host, port, fleet["user"]), vcenter("127.0.0.1", closed_port, fleet["user"])]}
    connector = VsphereConnector(config, secret)
    good, missing = connector.scopes()
    assert len(list(connector.iter_assets(good))) == 8
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(missing))
    assert failed.value.reason == f"the credential has no password for 127.0.0.1:{closed_port}"


def test_no_secret_fails_the_scope(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = VsphereConnector({"vcenters": [vcenter(*vcsim, fleet["user"])]}, None)
    with pytest.raises(ScopeFailed, match="no password"):
        list(connector.iter_assets(connector.scopes()[0]))


def test_hung_vcenter_times_out(silent_port: int) -> None:
    connector = VsphereConnector({"vcenters": [vcenter("127.0.0.1", silent_port, "u")], "timeout": 0.5}, "p")
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(connector.scopes()[0]))
    assert failed.value.reason == f"timed out after 0.5 s talking to 127.0.0.1:{silent_port}"


def test_untrusted_certificate_when_verify_ssl_is_on(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    config = {"vcenters": [{"host": vcsim[0], "port": vcsim[1], "user": fleet["user"]}]}  # verify_ssl defaults true
    connector = VsphereConnector(config, fleet["password"])
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(connector.scopes()[0]))
    assert failed.value.reason.startswith(f"TLS certificate of 127.0.0.1:{vcsim[1]} is not trusted (")
    assert failed.value.reason.endswith("); fix the CA or set verify_ssl false")


def test_unknown_scope_is_refused(vcsim: tuple[str, int], fleet: dict[str, str]) -> None:
    connector = VsphereConnector({"vcenters": [vcenter(*vcsim, fleet["user"])]}, fleet["password"])
    with pytest.raises(ConnectorError, match="is not one of this connector's vCenters"):
        list(connector.iter_assets(Scope("vc.other.example")))
