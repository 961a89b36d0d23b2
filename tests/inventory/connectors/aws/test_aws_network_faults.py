"""Unreachable or silent endpoints on 127.0.0.1 (no moto here): bounded by timeouts, reported as ScopeFailed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import ConnectorError, Scope, ScopeFailed

BASE = "123456789012"


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A 127.0.0.1 port that accepts TCP connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def connector_for(port: int, **overrides) -> AwsConnector:
    config = {
        "accounts": [{"account_id": BASE}],
        "regions": ["us-east-1"],
        "endpoint_url": f"http://127.0.0.1:{port}",
        "connect_timeout": 0.5,
        "read_timeout": 0.5,
        "max_attempts": 1,
        **overrides,
    }
    return AwsConnector(config, secret="AKIAQLRFEXAMPLE:c2VjcmV0")


def test_connection_refused_fails_the_scope(closed_port: int) -> None:
    connector = connector_for(closed_port)
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(Scope(BASE, "us-east-1")))
    assert (
        failed.value.reason == f'unreachable: Could not connect to the endpoint URL: "http://127.0.0.1:{closed_port}/"'
    )
    with pytest.raises(ConnectorError, match="^unreachable: Could not connect to the endpoint URL"):
        connector.test_connection()


def test_silent_endpoint_times_out_and_fails_the_scope(silent_port: int) -> None:
    connector = connector_for(silent_port)
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(Scope(BASE, "us-east-1")))
    assert failed.value.reason == f'timed out: Read timeout on endpoint URL: "http://127.0.0.1:{silent_port}/"'


def test_missing_credentials_fail_the_scope_readably(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    connector = AwsConnector(connector_for(closed_port).config)  # no secret: boto3's default chain finds nothing
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(Scope(BASE, "us-east-1")))
    assert failed.value.reason == "no AWS credentials: set a credential reference or configure boto3's default chain"


def test_malformed_secret_is_refused_without_echoing_it(closed_port: int) -> None:
    connector = AwsConnector(connector_for(closed_port).config, secret="only-one-part")
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(Scope(BASE, "us-east-1")))
    assert failed.value.reason == "the AWS secret must look like ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]"
    assert "only-one-part" not in str(failed.value)
