"""Drill fixtures: an isolated AWS environment on moto, a golden version with a us-east-1 AMI and its eu-west-1
copy promoted to prod, an AWS connector on moto's base account, and drill documents built from one template."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from apps.images.services import channel_promote
from apps.inventory.services import connector_create
from apps.resilience.services import drill_definition_save
from tests.factories.images import UBUNTU, register

ACCOUNT = "123456789012"  # moto's account for the "testing" base credentials
PRIMARY, DR = "us-east-1", "eu-west-1"

DOCUMENT: dict[str, Any] = {
    "apiVersion": "qlrf.io/v1",
    "kind": "DrillDefinition",
    "metadata": {"name": "web-dr", "description": "web tier in the DR region"},
    "workload": {"family": "ubuntu-2204-base", "environment": "prod"},
    "target": {"platform": "aws", "connector": "aws-dr", "aws": {"account": ACCOUNT, "region": DR}},
    "pilot_light": {"instance_type": "t3.micro", "count": 2},
    "health_checks": [
        {"name": "running", "type": "instance_state", "retries": 0},
        {"name": "golden", "type": "golden_version", "retries": 0},
    ],
    "objectives": {"rto_minutes": 30, "rpo_minutes": 60 * 24 * 30},
    "recovery_point": {"source": "image_release"},
    "schedule": {"cron": "0 3 * * 1"},
    "teardown": {"policy": "always", "max_duration_minutes": 30},
}


def document(**changes: Any) -> dict[str, Any]:
    """A copy of DOCUMENT with top-level keys replaced."""
    result = copy.deepcopy(DOCUMENT)
    result.update(changes)
    return result


def save(tenant, doc: dict[str, Any]):
    return drill_definition_save(actor=None, organization=tenant.organization, data=json.dumps(doc))


@pytest.fixture(autouse=True)
def isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Fake base credentials; no real profile, config file or instance metadata can leak in."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def fast_polls(settings) -> None:
    settings.QLRF_DRILL_POLL_SECONDS = 0.01


@dataclasses.dataclass
class AwsWorld:
    ami: str
    ami_copy: str
    version: Any
    connector: Any
    endpoint_url: str | None

    def ec2(self, region: str = DR):
        return boto3.client("ec2", region_name=region, endpoint_url=self.endpoint_url)

    def tagged_live(self, region: str = DR) -> list[str]:
        """Instances carrying the drill tag that are not terminated (what a drill could leak)."""
        reply = self.ec2(region).describe_instances(Filters=[{"Name": "tag-key", "Values": ["qlrf:drill-run"]}])
        return [
            i["InstanceId"]
            for r in reply["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] not in ("terminated", "shutting-down")
        ]

    def all_drill_instances(self, region: str = DR) -> list[dict]:
        reply = self.ec2(region).describe_instances(Filters=[{"Name": "tag-key", "Values": ["qlrf:drill-run"]}])
        return [i for r in reply["Reservations"] for i in r["Instances"]]


def build_world(tenant, envs, *, endpoint_url: str | None = None, copy_to_dr: bool = True) -> AwsWorld:
    """Register a golden AMI in us-east-1 (and its copy in eu-west-1), the version, its promotion, a connector."""
    use1 = boto3.client("ec2", region_name=PRIMARY, endpoint_url=endpoint_url)
    ami = use1.register_image(Name="golden-web-1.4.0", RootDeviceName="/dev/sda1")["ImageId"]
    artifacts = [{"platform": "aws", "account": ACCOUNT, "region": PRIMARY, "image_ref": ami}]
    ami_copy = ""
    if copy_to_dr:
        euw1 = boto3.client("ec2", region_name=DR, endpoint_url=endpoint_url)
        ami_copy = euw1.copy_image(SourceImageId=ami, SourceRegion=PRIMARY, Name="golden-web-1.4.0")["ImageId"]
        artifacts.append({"platform": "aws", "account": ACCOUNT, "region": DR, "image_ref": ami_copy})
    version = register(tenant, UBUNTU, "1.4.0", artifacts=artifacts)
    channel_promote(actor=None, version=version, environment=envs["prod"])
    config: dict[str, Any] = {
        "accounts": [{"account_id": ACCOUNT}],
        "regions": [PRIMARY, DR],
        "max_attempts": 1,
        "connect_timeout": 2,
        "read_timeout": 10,
    }
    if endpoint_url:
        config["endpoint_url"] = endpoint_url
    connector = connector_create(
        actor=None, organization=tenant.organization, platform="aws", name="aws-dr", config=config
    )
    return AwsWorld(ami, ami_copy, version, connector, endpoint_url)


@pytest.fixture
def moto_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def world(moto_aws, tenant_a, envs) -> AwsWorld:
    return build_world(tenant_a, envs)
