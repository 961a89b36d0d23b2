"""Recorded real EC2 responses (cloud-custodian placebo files) parsed by the connector's own normalisers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from apps.inventory.connectors.aws import normalise_image, normalise_instance
from apps.inventory.connectors.base import AssetEdge

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "external" / "aws"
ACCOUNT = "644160558196"


def recorded(name: str) -> dict:
    """The API response inside a placebo recording (``{"status_code": 200, "data": {...}}``)."""
    wrapper = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert wrapper["status_code"] == 200
    return wrapper["data"]


def recorded_assets() -> list:
    data = recorded("ec2-describe-instances.unused-ami.placebo.json")
    return [
        normalise_instance(instance, account=ACCOUNT, region="us-east-1", asg_by_instance={})
        for reservation in data["Reservations"]
        for instance in reservation["Instances"]
    ]


def test_recorded_instances() -> None:
    assets = recorded_assets()
    assert [(a.instance_id, a.image_ref, a.state) for a in assets] == [
        ("i-0ea09b4cbf12b50f2", "ami-c481fad3", "running"),
        ("i-0fb259f29c8f850a4", "ami-04e2b113", "running"),
        ("i-0da984a9cc826ea48", "ami-c481fad3", "running"),
    ]
    assert [a.name for a in assets] == ["c7n-ec2-test", "c7n-test-ami-filter", "c7n-asg-test-01"]
    assert {(a.zone, a.extra["instance_type"]) for a in assets} == {("us-east-1d", "t2.micro")}
    # placebo stores LaunchTime as its own {"__class__": "datetime", ...} object: not a timestamp, so left out.
    assert all("launch_time" not in a.extra for a in assets)


def test_recorded_asg_member_found_through_its_tag() -> None:
    asg_member = recorded_assets()[2]
    assert asg_member.group_ref == "c7n-asg-test-01"
    assert asg_member.edges == (
        AssetEdge("instance", "i-0da984a9cc826ea48", "group", "c7n-asg-test-01", "member_of"),
        AssetEdge("instance", "i-0da984a9cc826ea48", "image", "ami-c481fad3", "launched_from"),
    )
    assert [a.group_ref for a in recorded_assets()[:2]] == ["", ""]


def test_recorded_images_unused_ami() -> None:
    pattern = re.compile(r"^c7n-(?:ami|image)-(?P<version>\d+)$")
    images = [
        normalise_image(image, account=ACCOUNT, region="us-east-1", name_pattern=pattern)
        for image in recorded("ec2-describe-images.unused-ami.placebo.json")["Images"]
    ]
    assert [(i.image_ref, i.name, i.state, i.created_at, i.version) for i in images] == [
        ("ami-04e2b113", "c7n-ami-02", "available", "2016-10-21T16:59:46.000Z", "02"),
        ("ami-e0fba8f7", "c7n-image-01", "available", "2016-10-21T15:38:09.000Z", "01"),
    ]
    assert [i.extra for i in images] == [
        {
            "owner_id": ACCOUNT,
            "architecture": "x86_64",
            "description": description,
            "public": False,
            "raw_state": "available",
        }
        for description in ("Test AMI 2", "Test Image")
    ]


def test_recorded_images_without_version_information() -> None:
    images = [
        normalise_image(image, account="123456789012", region="us-east-1")
        for image in recorded("ec2-describe-images.ubuntu1804-al2.placebo.json")["Images"]
    ]
    assert [(i.image_ref, i.name, i.state, i.created_at) for i in images] == [
        ("ami-0bcc094591f354be2", "My-Ubuntu1804-Image", "available", "2020-08-14T16:32:37.000Z"),
        ("ami-02354e95b39ca8dec", "My-AmazonLinux2-Image", "available", "2020-08-14T18:07:01.000Z"),
    ]
    assert [(i.version, i.family, i.tags) for i in images] == [("", "", {"release": "final"})] * 2


def test_recorded_join_finds_the_instances_on_unknown_images() -> None:
    known = {image["ImageId"] for image in recorded("ec2-describe-images.unused-ami.placebo.json")["Images"]}
    assets = recorded_assets()
    assert [a.instance_id for a in assets if a.image_ref in known] == ["i-0fb259f29c8f850a4"]
    assert [a.instance_id for a in assets if a.image_ref not in known] == ["i-0ea09b4cbf12b50f2", "i-0da984a9cc826ea48"]
    assert known - {a.image_ref for a in assets} == {"ami-e0fba8f7"}
