"""Fixture paths for the document-parser and signing tests, and a guard that keeps them off the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[3] / "fixtures" / "external"


@pytest.fixture
def external() -> Path:
    """Root of the byte-exact third-party fixtures (fixtures/external)."""
    return EXTERNAL


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to 127.0.0.1: verification must work fully offline."""
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network access attempted during an offline test: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
