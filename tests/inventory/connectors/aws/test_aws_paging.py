"""NextToken paging through the connector's real paginators (moto ignores MaxResults, so botocore's Stubber pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import AssetEdge, Scope

LIVE = ["pending", "running", "stopping", "stopped"]
CREATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def moto_sts():
    """moto answers the base session's GetCallerIdentity; EC2 and Auto Scaling are stubbed."""
    with mock_aws():
        yield


def respond(stubber: Stubber, method: str, body: dict, params: dict) -> None:
    """Queue a stubbed page carrying a RequestId, as every real AWS answer does (the connector checks for it)."""
    stubber.add_response(method, {**body, "ResponseMetadata": {"RequestId": "stubbed-request"}}, params)


def image(image_id: str, name: str, tags: dict[str, str]) -> dict:
    return {
        "ImageId": image_id,
        "Name": name,
        "State": "available",
        "CreationDate": "2025-01-02T03:04:05.000Z",
        "OwnerId": "123456789012",
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }


def instance(instance_id: str, state: str, image_id: str) -> dict:
    return {
        "InstanceId": instance_id,
        "ImageId": image_id,
        "InstanceType": "m6i.large",
        "State": {"Code": 16, "Name": state},
        "Placement": {"AvailabilityZone": "us-east-1b"},
        "LaunchTime": CREATED,
    }


def group(name: str, members: list[str]) -> dict:
    return {
        "AutoScalingGroupName": name,
        "MinSize": 0,
        "MaxSize": 4,
        "DesiredCapacity": len(members),
        "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1b"],
        "HealthCheckType": "EC2",
        "CreatedTime": CREATED,
        "Instances": [
            {
                "InstanceId": member,
                "AvailabilityZone": "us-east-1b",
                "LifecycleState": "InService",
                "HealthStatus": "Healthy",
                "ProtectedFromScaleIn": False,
            }
            for member in members
        ],
    }


def stubbed(service: str, connector: AwsConnector, scope: Scope) -> Stubber:
    return Stubber(connector._client(service, scope))


def test_images_follow_next_token_across_pages(kit, moto_sts) -> None:
    connector = AwsConnector(
        kit.config(accounts=[{"account_id": kit.BASE_ACCOUNT}], regions=["us-east-1"], image_owners=["amazon"])
    )
    scope = Scope(kit.BASE_ACCOUNT, "us-east-1")
    request = {"Owners": ["self", "amazon"], "IncludeDeprecated": True, "IncludeDisabled": True, "MaxResults": 1000}
    with stubbed("ec2", connector, scope) as stub:
        respond(
            stub,
            "describe_images",
            {
                "Images": [image("ami-0aaa", "web-v1.0.0", {}), image("ami-0bbb", "web", {"Version": "1.1.0"})],
                "NextToken": "page-2",
            },
            request,
        )
        respond(
            stub,
            "describe_images",
            {"Images": [image("ami-0ccc", "db", {"Family": "db"})]},
            {**request, "NextToken": "page-2"},
        )
        images = list(connector.iter_images(scope))
        stub.assert_no_pending_responses()
    assert [(i.image_ref, i.version, i.family) for i in images] == [
        ("ami-0aaa", "1.0.0", ""),
        ("ami-0bbb", "1.1.0", ""),
        ("ami-0ccc", "", "db"),
    ]


def test_instances_and_groups_follow_next_token_across_pages(kit, moto_sts) -> None:
    connector = AwsConnector(kit.config(accounts=[{"account_id": kit.BASE_ACCOUNT}], regions=["us-east-1"]))
    scope = Scope(kit.BASE_ACCOUNT, "us-east-1")
    asg_request = {"MaxRecords": 100}
    ec2_request = {"Filters": [{"Name": "instance-state-name", "Values": LIVE}], "MaxResults": 1000}
    with stubbed("autoscaling", connector, scope) as asg, stubbed("ec2", connector, scope) as ec2:
        respond(
            asg,
            "describe_auto_scaling_groups",
            {"AutoScalingGroups": [group("blue", ["i-01"])], "NextToken": "g2"},
            asg_request,
        )
        respond(
            asg,
            "describe_auto_scaling_groups",
            {"AutoScalingGroups": [group("green", ["i-03"]), group("empty", [])]},
            {**asg_request, "NextToken": "g2"},
        )
        respond(
            ec2,
            "describe_instances",
            {
                "Reservations": [
                    {"Instances": [instance("i-01", "running", "ami-0aaa"), instance("i-02", "terminated", "ami-0aaa")]}
                ],
                "NextToken": "t2",
            },
            ec2_request,
        )
        respond(
            ec2,
            "describe_instances",
            {
                "Reservations": [
                    {"Instances": [instance("i-03", "stopping", "ami-0bbb")]},
                    {"Instances": [instance("i-04", "pending", "ami-0bbb")]},
                ]
            },
            {**ec2_request, "NextToken": "t2"},
        )
        assets = list(connector.iter_assets(scope))
        asg.assert_no_pending_responses()
        ec2.assert_no_pending_responses()
    # i-02 is terminated: not an asset even though the (stubbed) API returned it.
    assert [(a.instance_id, a.state, a.group_ref, a.image_ref) for a in assets] == [
        ("i-01", "running", "blue", "ami-0aaa"),
        ("i-03", "stopping", "green", "ami-0bbb"),
        ("i-04", "pending", "", "ami-0bbb"),
    ]
    assert assets[1].edges == (
        AssetEdge("instance", "i-03", "group", "green", "member_of"),
        AssetEdge("instance", "i-03", "image", "ami-0bbb", "launched_from"),
    )
    assert assets[0].extra == {"instance_type": "m6i.large", "launch_time": "2025-01-02T03:04:05+00:00"}
