"""The Auto Scaling group → launch template version (or launch configuration) → AMI edge, against moto."""

from __future__ import annotations

import pytest
from moto import mock_aws

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.aws_normalise import asg_launch_spec
from apps.inventory.connectors.base import AssetEdge, Scope

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/qlrf-scan"


@pytest.fixture
def world(kit):
    """Two template versions (the group pins the old one), and a group on a launch configuration."""
    with mock_aws():
        session = kit.account_session(ACCOUNT, None)
        ec2 = session.client("ec2", region_name="us-east-1")
        autoscaling = session.client("autoscaling", region_name="us-east-1")
        old = kit.image(ec2, "web-v1.0.0", {})
        new = kit.image(ec2, "web-v1.1.0", {})
        template = ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": old})
        template_id = template["LaunchTemplate"]["LaunchTemplateId"]
        ec2.create_launch_template_version(LaunchTemplateId=template_id, LaunchTemplateData={"ImageId": new})
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="pinned-asg",
            LaunchTemplate={"LaunchTemplateId": template_id, "Version": "1"},
            MinSize=1,
            MaxSize=1,
            DesiredCapacity=1,
            AvailabilityZones=["us-east-1a"],
        )
        autoscaling.create_launch_configuration(
            LaunchConfigurationName="legacy-lc", ImageId=old, InstanceType="t3.micro"
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="legacy-asg",
            LaunchConfigurationName="legacy-lc",
            MinSize=1,
            MaxSize=1,
            DesiredCapacity=1,
            AvailabilityZones=["us-east-1a"],
        )
        config = {"accounts": [{"account_id": ACCOUNT, "role_arn": ROLE}], "regions": ["us-east-1"]}
        connector = AwsConnector(kit.config(**config))
        assets = list(connector.iter_assets(Scope(ACCOUNT, "us-east-1")))
        yield {"old": old, "new": new, "template_id": template_id, "assets": assets}


def test_a_group_pinned_to_an_old_template_version_leads_to_the_old_ami(world):
    pinned = [a for a in world["assets"] if a.group_ref == "pinned-asg"]
    assert len(pinned) == 1
    ref = f"{world['template_id']}:1"
    assert AssetEdge("group", "pinned-asg", "template", ref, "uses_template") in pinned[0].edges
    assert AssetEdge("template", ref, "image", world["old"], "launched_from") in pinned[0].edges
    assert not any(edge.target_ref == world["new"] for edge in pinned[0].edges)


def test_a_launch_configuration_is_a_template_of_its_own(world):
    legacy = [a for a in world["assets"] if a.group_ref == "legacy-asg"]
    assert len(legacy) == 1
    ref = "launch-configuration:legacy-lc"
    assert AssetEdge("group", "legacy-asg", "template", ref, "uses_template") in legacy[0].edges
    assert AssetEdge("template", ref, "image", world["old"], "launched_from") in legacy[0].edges


@pytest.mark.parametrize(
    ("group", "spec"),
    [
        ({"LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "3"}}, ("template", "lt-1", "3")),
        ({"LaunchTemplate": {"LaunchTemplateName": "web"}}, ("template", "web", "$Default")),
        (
            {"MixedInstancesPolicy": {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": "lt-2"}}}},
            ("template", "lt-2", "$Default"),
        ),
        ({"LaunchConfigurationName": "lc"}, ("configuration", "lc", "")),
        ({}, None),
        ({"LaunchTemplate": {}}, None),  # broken: names no template
    ],
)
def test_launch_spec_of_every_group_shape(group, spec):
    assert asg_launch_spec(group) == spec
