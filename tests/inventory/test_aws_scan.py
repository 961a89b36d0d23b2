"""`rf scan` against moto's EC2/STS server: versions resolved (regional copies included), a rerun all unchanged."""

import importlib
import urllib.request

import pytest
from moto.server import ThreadedMotoServer

from apps.inventory.models import Asset, ScanRun
from apps.inventory.services import connector_create
from qlrf.cli import main
from tests.factories.images import register

aws_world = importlib.import_module("tests.inventory.connectors.aws.conftest")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moto_server(monkeypatch, tmp_path):
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
    ):
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
    _moto_reset(endpoint)  # moto's backends are process-wide: start empty and leave nothing behind
    try:
        yield endpoint, aws_world.build_world(endpoint)
    finally:
        _moto_reset(endpoint)
        server.stop()


def _moto_reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def test_rf_scan_against_moto_resolves_versions_and_rescans_unchanged(tenant_a, ubuntu_contract, moto_server, capsys):
    endpoint, world = moto_server
    version = register(
        tenant_a,
        ubuntu_contract,
        "2.3.0",
        artifacts=[
            {"platform": "aws", "image_ref": world.ami_web, "account": aws_world.ACCOUNT_A, "region": "us-east-1"},
            {"platform": "aws", "image_ref": world.ami_web_copy, "account": aws_world.ACCOUNT_A, "region": "eu-west-1"},
        ],
    )
    connector_create(
        actor=None,
        organization=tenant_a.organization,
        platform="aws",
        name="aws-prod",
        config=aws_world.connector_config(endpoint_url=endpoint),
        credential_ref="env:QLRF_TEST_AWS_KEYS",
    )

    assert main(["scan", "alpha/aws-prod"]) == 0
    out = capsys.readouterr().out
    assert ": succeeded — discovered 6, new 6, updated 0, unchanged 0, removed 0" in out
    assets = {a.instance_id: a for a in Asset.objects.filter(organization=tenant_a.organization)}
    on_golden = {world.web_1, world.web_eu_1, *world.asg_members}
    assert set(assets) == on_golden | {world.batch_1, world.app_1}
    assert world.terminated not in assets
    assert {i for i, a in assets.items() if a.image_version_id == version.pk} == on_golden
    assert assets[world.web_eu_1].region == "eu-west-1" and assets[world.web_eu_1].image_ref == world.ami_web_copy
    assert assets[world.batch_1].state == "stopped" and assets[world.batch_1].image_version is None
    assert assets[world.app_1].image_version is None  # its AMI is not in the registry: unmanaged
    member = assets[world.asg_members[0]]
    assert member.group_ref == "web-asg"
    assert {(e.target_kind, e.target_ref) for e in member.edges.all()} >= {("group", "web-asg")}

    assert main(["scan", "alpha/aws-prod"]) == 0
    second = ScanRun.objects.latest("id")
    assert (second.discovered, second.new, second.updated, second.unchanged, second.removed) == (6, 0, 0, 6, 0)
