"""A full scan over HTTP: moto's ThreadedMotoServer on 127.0.0.1 reached through ``endpoint_url``."""

from __future__ import annotations

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import AssetEdge


def test_full_scan_through_the_server(kit, server_world) -> None:
    endpoint_url, world = server_world
    connector = AwsConnector(kit.config(endpoint_url=endpoint_url))
    result = kit.scan(connector)
    a_use1, a_euw1 = f"{kit.ACCOUNT_A}/us-east-1", f"{kit.ACCOUNT_A}/eu-west-1"
    b_use1, b_euw1 = f"{kit.ACCOUNT_B}/us-east-1", f"{kit.ACCOUNT_B}/eu-west-1"
    assert result.failures == {}
    assert {k: sorted((i.image_ref, i.version) for i in v) for k, v in result.images.items()} == {
        a_use1: sorted([(world.ami_web, "2.3.0"), (world.ami_base, "1.4.2"), (world.ami_scratch, "")]),
        a_euw1: [(world.ami_web_copy, "2.3.0")],
        b_use1: [(world.ami_app, "3.0.1")],
        b_euw1: [],
    }
    assets = {k: {a.instance_id: a for a in v} for k, v in result.assets.items()}
    assert {k: sorted(v) for k, v in assets.items()} == {
        a_use1: sorted([world.web_1, world.batch_1, *world.asg_members]),
        a_euw1: [world.web_eu_1],
        b_use1: [world.app_1],
        b_euw1: [],
    }
    assert assets[a_use1][world.batch_1].state == "stopped"
    member = assets[a_use1][world.asg_members[0]]
    template = member.edges[2].target_ref
    assert member.edges == (
        AssetEdge("instance", member.instance_id, "group", "web-asg", "member_of"),
        AssetEdge("instance", member.instance_id, "image", world.ami_web, "launched_from"),
        AssetEdge("group", "web-asg", "template", template, "uses_template"),
        AssetEdge("template", template, "image", world.ami_web, "launched_from"),
    )


def test_connection_test_through_the_server(kit, server_world) -> None:
    endpoint_url, _ = server_world
    summary = AwsConnector(kit.config(endpoint_url=endpoint_url)).test_connection()
    assert summary.startswith("authenticated as arn:aws:sts::123456789012:user/moto; 2 account(s) reachable")
