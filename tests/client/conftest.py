"""Fixtures of the ``rf`` client tests: a live server, tokens per role, ``rf`` run remote and local, an AWS in moto."""

from __future__ import annotations

import importlib
import io
import re
import urllib.request
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer

from apps.tenancy.services.tokens import token_create
from qlrf_client.cli import main

aws_world = importlib.import_module("tests.inventory.connectors.aws.conftest")


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_rf(*argv: str) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch, tmp_path):
    """No developer's QLRF_* or ~/.config/qlrf leaks into a test."""
    for name in ("QLRF_URL", "QLRF_TOKEN", "QLRF_PROFILE", "QLRF_ORG", "QLRF_AS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QLRF_CONFIG", str(tmp_path / "no-config.toml"))


@pytest.fixture
def tokens(tenant_a, envs, tenant_b):
    """Raw tokens: one per role of alpha, and bravo's admin."""
    return {
        "admin": token_create(actor=None, organization=tenant_a.organization, name="ci-admin", role="admin")[1],
        "engineer": token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")[1],
        "operator": token_create(actor=None, organization=tenant_a.organization, name="ops", role="operator")[1],
        "viewer": token_create(actor=None, organization=tenant_a.organization, name="ro", role="viewer")[1],
        "bravo": token_create(actor=None, organization=tenant_b.organization, name="ci", role="admin")[1],
    }


@pytest.fixture
def remote(live_server, tokens):
    """``rf`` through the REST API of the live server with a token (role name → token)."""

    def run(*argv: str, role: str = "admin") -> Run:
        return run_rf("--url", live_server.url, "--token", tokens[role], *argv)

    return run


@pytest.fixture
def local(tenant_a):
    """``rf`` in local mode acting as alpha's member of that role."""

    def run(*argv: str, role: str = "admin") -> Run:
        return run_rf("--as", f"alpha-{role}", *argv)

    return run


def normalized(text: str) -> str:
    """Output with what differs between two runs by design (ids, clock) masked."""
    text = re.sub(r"\b(id|decision|upload job|scan|snapshot #) ?(\d+)", r"\1 N", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?Z?", "DATE", text)
    return re.sub(r'"(id|decision|upload)": \d+', r'"\1": N', text)


@pytest.fixture
def moto_endpoint(monkeypatch, tmp_path):
    """moto's EC2/STS server with the two-account world of the AWS connector tests: (endpoint, world)."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION",
                 "AWS_ENDPOINT_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("QLRF_TEST_AWS_KEYS", "testing:testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _moto_reset(endpoint)
    try:
        yield endpoint, aws_world.build_world(endpoint)
    finally:
        _moto_reset(endpoint)
        server.stop()


def _moto_reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
