"""Shared set-up for the AWS connector tests: isolated AWS env, a moto world of two accounts × two regions."""

from __future__ import annotations

import dataclasses
import io
import types
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.server import ThreadedMotoServer
from urllib3.response import HTTPResponse

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import DiscoveredAsset, DiscoveredImage, ScopeFailed

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
BASE_ACCOUNT = "123456789012"  # moto's account for the base ("testing") credentials
REGIONS = ["us-east-1", "eu-west-1"]
ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/qlrf-scan"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/qlrf-scan"
NAME_PATTERN = r"-v(?P<version>\d+(?:\.\d+)+)$"


@pytest.fixture(scope="module", autouse=True)
def isolated_aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake base credentials; no real profile, config file or instance metadata can leak in (undone per module)."""
    empty = tmp_path_factory.mktemp("aws-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
            patch.delenv(name, raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)  # an ambient override must not redirect the SDK
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


def connector_config(**overrides: Any) -> dict[str, Any]:
    """The two-account, two-region config the moto world is built for."""
    config: dict[str, Any] = {
        "accounts": [
            {"account_id": ACCOUNT_A, "role_arn": ROLE_A, "external_id": "qlrf-ext-a"},
            {"account_id": ACCOUNT_B, "role_arn": ROLE_B, "session_name": "qlrf-scan-b"},
        ],
        "regions": list(REGIONS),
        "version_name_pattern": NAME_PATTERN,
        "max_attempts": 2,
        "connect_timeout": 2,
        "read_timeout": 5,
    }
    config.update(overrides)
    return config


@dataclasses.dataclass
class World:
    """Ids of what was created, so tests can assert exact sets (moto ids are random)."""

    ami_web: str = ""
    ami_web_copy: str = ""
    ami_base: str = ""
    ami_scratch: str = ""
    ami_app: str = ""
    web_1: str = ""
    batch_1: str = ""
    terminated: str = ""
    asg_members: tuple[str, ...] = ()
    web_eu_1: str = ""
    app_1: str = ""


def _account_session(account: str, endpoint_url: str | None) -> boto3.Session:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint_url)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _image(ec2: Any, name: str, tags: dict[str, str]) -> str:
    image_id = ec2.register_image(Name=name, RootDeviceName="/dev/sda1")["ImageId"]
    if tags:
        ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return image_id


def _instance(ec2: Any, image_id: str, name: str) -> str:
    spec = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
    reply = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=spec)
    return reply["Instances"][0]["InstanceId"]


def _build_account_a(world: World, session: boto3.Session, endpoint_url: str | None) -> None:
    use1 = session.client("ec2", region_name="us-east-1", endpoint_url=endpoint_url)
    euw1 = session.client("ec2", region_name="eu-west-1", endpoint_url=endpoint_url)
    world.ami_web = _image(use1, "golden-web-2024.05.1", {"Version": "2.3.0", "Family": "web"})
    world.ami_base = _image(use1, "base-linux-v1.4.2", {})
    world.ami_scratch = _image(use1, "scratch-build", {"Owner": "qa"})
    world.ami_web_copy = euw1.copy_image(
        SourceImageId=world.ami_web, SourceRegion="us-east-1", Name="golden-web-2024.05.1"
    )["ImageId"]
    euw1.create_tags(
        Resources=[world.ami_web_copy], Tags=[{"Key": "Version", "Value": "2.3.0"}, {"Key": "Family", "Value": "web"}]
    )
    world.web_1 = _instance(use1, world.ami_web, "web-1")
    world.batch_1 = _instance(use1, world.ami_base, "batch-1")
    use1.stop_instances(InstanceIds=[world.batch_1])
    world.terminated = _instance(use1, world.ami_web, "old-web")
    use1.terminate_instances(InstanceIds=[world.terminated])
    world.web_eu_1 = _instance(euw1, world.ami_web_copy, "web-eu-1")
    use1.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": world.ami_web})
    autoscaling = session.client("autoscaling", region_name="us-east-1", endpoint_url=endpoint_url)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Latest"},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        AvailabilityZones=["us-east-1a"],
    )
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"]
    world.asg_members = tuple(sorted(member["InstanceId"] for member in groups[0]["Instances"]))


def build_world(endpoint_url: str | None = None) -> World:
    """Account A: 3 AMIs + instances + an ASG in us-east-1, a regional copy in eu-west-1; account B: one of each."""
    world = World()
    _build_account_a(world, _account_session(ACCOUNT_A, endpoint_url), endpoint_url)
    use1_b = _account_session(ACCOUNT_B, endpoint_url).client("ec2", region_name="us-east-1", endpoint_url=endpoint_url)
    world.ami_app = _image(use1_b, "app-3.0.1", {"Version": "3.0.1", "Family": "app", "Name": "app image"})
    world.app_1 = _instance(use1_b, world.ami_app, "app-1")
    return world


@pytest.fixture(scope="module")
def moto_world(isolated_aws_env: None) -> Iterator[World]:
    """The world inside moto's in-process mock, built once per module (tests only read it)."""
    with mock_aws():
        yield build_world()


@pytest.fixture(scope="module")
def server_world(isolated_aws_env: None) -> Iterator[tuple[str, World]]:
    """moto's HTTP server on a free 127.0.0.1 port, with the world built through it: (endpoint_url, world)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        yield endpoint_url, build_world(endpoint_url)
    finally:
        server.stop()


@dataclasses.dataclass
class ScanResult:
    """Everything one full scan produced, per scope key, with the failures the sync service would record."""

    images: dict[str, list[DiscoveredImage]]
    assets: dict[str, list[DiscoveredAsset]]
    failures: dict[str, str]


def scan(connector: AwsConnector) -> ScanResult:
    """Scan every scope like the sync service does: a failed scope is recorded and the next one continues."""
    result = ScanResult({}, {}, {})
    for scope in connector.scopes():
        try:
            result.images[scope.key] = list(connector.iter_images(scope))
            result.assets[scope.key] = list(connector.iter_assets(scope))
        except ScopeFailed as exc:
            result.failures[scope.key] = exc.reason
    return result


def canned_response(status: int, body: bytes) -> Callable[..., AWSResponse]:
    """A ``before-send`` hook body: answer with a real AWSResponse carrying ``body`` (AWS's XML wire format)."""

    def respond(request: Any, **_: Any) -> AWSResponse:
        raw = HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, raw)

    return respond


def ec2_error_xml(code: str, message: str) -> bytes:
    """An EC2 (query protocol) error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>5d1ee3f4-0000-4000-8000-000000000000</RequestID></Response>"
    ).encode()


def sts_error_xml(code: str, message: str) -> bytes:
    """An STS (query protocol) error document."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>7a62c49f-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()


@pytest.fixture(scope="session")
def kit() -> types.SimpleNamespace:
    """The helpers above for the test modules (test files cannot import conftest under importlib mode)."""
    return types.SimpleNamespace(
        ACCOUNT_A=ACCOUNT_A,
        ACCOUNT_B=ACCOUNT_B,
        BASE_ACCOUNT=BASE_ACCOUNT,
        REGIONS=REGIONS,
        ROLE_A=ROLE_A,
        ROLE_B=ROLE_B,
        NAME_PATTERN=NAME_PATTERN,
        config=connector_config,
        build_world=build_world,
        scan=scan,
        canned_response=canned_response,
        ec2_error_xml=ec2_error_xml,
        sts_error_xml=sts_error_xml,
        account_session=_account_session,
        image=_image,
    )
