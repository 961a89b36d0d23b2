"""AwsConnector against moto's in-process AWS: AssumeRole into two accounts, AMIs, instances and an ASG."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import AssetEdge, Scope, get_connector_class


@pytest.fixture(scope="module")
def scanned(kit, moto_world):
    """One full scan of the moto world with the standard config (the tests below only read it)."""
    return kit.scan(AwsConnector(kit.config()))


def by_id(items: list, attr: str) -> dict:
    return {getattr(item, attr): item for item in items}


def test_registered_under_its_slug() -> None:
    cls = get_connector_class("aws")
    assert cls is AwsConnector
    assert (cls.slug, cls.label, cls.sensitive_parameters) == ("aws", "Amazon Web Services", ())


def test_scopes_are_accounts_times_regions(kit) -> None:
    connector = AwsConnector(kit.config())
    assert connector.scopes() == [
        Scope(kit.ACCOUNT_A, "us-east-1"),
        Scope(kit.ACCOUNT_A, "eu-west-1"),
        Scope(kit.ACCOUNT_B, "us-east-1"),
        Scope(kit.ACCOUNT_B, "eu-west-1"),
    ]


def test_images_versions_from_tag_name_pattern_or_empty(kit, moto_world, scanned) -> None:
    result = scanned
    assert result.failures == {}
    images = by_id(result.images[f"{kit.ACCOUNT_A}/us-east-1"], "image_ref")
    assert set(images) == {moto_world.ami_web, moto_world.ami_base, moto_world.ami_scratch}
    web, base, scratch = images[moto_world.ami_web], images[moto_world.ami_base], images[moto_world.ami_scratch]
    assert (web.name, web.version, web.family, web.state) == ("golden-web-2024.05.1", "2.3.0", "web", "available")
    assert (base.name, base.version, base.family) == ("base-linux-v1.4.2", "1.4.2", "")
    assert (scratch.name, scratch.version, scratch.family, scratch.tags) == ("scratch-build", "", "", {"Owner": "qa"})
    assert {(i.platform, i.account, i.region) for i in images.values()} == {("aws", kit.ACCOUNT_A, "us-east-1")}
    assert all(i.created_at.endswith("Z") and i.extra["owner_id"] == kit.ACCOUNT_A for i in images.values())


def test_regional_copy_is_its_own_image_with_the_same_version(kit, moto_world, scanned) -> None:
    result = scanned
    [copy] = result.images[f"{kit.ACCOUNT_A}/eu-west-1"]
    assert copy.image_ref == moto_world.ami_web_copy != moto_world.ami_web
    assert (copy.region, copy.version, copy.family, copy.name) == ("eu-west-1", "2.3.0", "web", "golden-web-2024.05.1")


def test_second_account_sees_only_its_own_images(kit, moto_world, scanned) -> None:
    result = scanned
    [app] = result.images[f"{kit.ACCOUNT_B}/us-east-1"]
    assert (app.image_ref, app.version, app.family, app.account) == (moto_world.ami_app, "3.0.1", "app", kit.ACCOUNT_B)
    assert result.images[f"{kit.ACCOUNT_B}/eu-west-1"] == []


def test_without_name_pattern_an_untagged_ami_has_no_version(kit, moto_world) -> None:
    config = kit.config(version_name_pattern=None)
    del config["version_name_pattern"]
    connector = AwsConnector(config)
    images = by_id(connector.iter_images(Scope(kit.ACCOUNT_A, "us-east-1")), "image_ref")
    assert images[moto_world.ami_base].version == ""
    assert images[moto_world.ami_web].version == "2.3.0"


def test_custom_version_tag(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(version_tag="Family"))
    images = by_id(connector.iter_images(Scope(kit.ACCOUNT_A, "us-east-1")), "image_ref")
    assert images[moto_world.ami_web].version == "web"


def test_assets_running_stopped_and_asg_members_but_not_terminated(kit, moto_world, scanned) -> None:
    result = scanned
    assets = by_id(result.assets[f"{kit.ACCOUNT_A}/us-east-1"], "instance_id")
    assert set(assets) == {moto_world.web_1, moto_world.batch_1, *moto_world.asg_members}
    assert moto_world.terminated not in assets
    web, batch = assets[moto_world.web_1], assets[moto_world.batch_1]
    assert (web.name, web.state, web.image_ref, web.group_ref) == ("web-1", "running", moto_world.ami_web, "")
    assert (batch.name, batch.state, batch.image_ref) == ("batch-1", "stopped", moto_world.ami_base)
    assert web.edges == (AssetEdge("instance", web.instance_id, "image", moto_world.ami_web, "launched_from"),)
    assert (web.platform, web.account, web.region, web.zone, web.site_hint) == (
        "aws",
        kit.ACCOUNT_A,
        "us-east-1",
        "us-east-1a",
        "us-east-1",
    )
    assert web.extra["instance_type"] == "t3.micro"


def test_asg_members_carry_group_and_edges(kit, moto_world, scanned) -> None:
    result = scanned
    assets = by_id(result.assets[f"{kit.ACCOUNT_A}/us-east-1"], "instance_id")
    assert len(moto_world.asg_members) == 2
    for instance_id in moto_world.asg_members:
        member = assets[instance_id]
        assert (member.group_ref, member.state, member.image_ref) == ("web-asg", "running", moto_world.ami_web)
        template = member.edges[2].target_ref
        assert template.startswith("lt-") and template.endswith(":1")  # $Latest resolved to the version number
        assert member.edges == (
            AssetEdge("instance", instance_id, "group", "web-asg", "member_of"),
            AssetEdge("instance", instance_id, "image", moto_world.ami_web, "launched_from"),
            AssetEdge("group", "web-asg", "template", template, "uses_template"),
            AssetEdge("template", template, "image", moto_world.ami_web, "launched_from"),
        )


def test_other_scopes_assets(kit, moto_world, scanned) -> None:
    result = scanned
    [eu] = result.assets[f"{kit.ACCOUNT_A}/eu-west-1"]
    assert (eu.instance_id, eu.image_ref, eu.region, eu.name) == (
        moto_world.web_eu_1,
        moto_world.ami_web_copy,
        "eu-west-1",
        "web-eu-1",
    )
    [app] = result.assets[f"{kit.ACCOUNT_B}/us-east-1"]
    assert (app.instance_id, app.image_ref, app.account) == (moto_world.app_1, moto_world.ami_app, kit.ACCOUNT_B)
    assert result.assets[f"{kit.ACCOUNT_B}/eu-west-1"] == []


def test_assume_role_sends_role_external_id_and_session_name(kit, moto_world) -> None:
    connector = AwsConnector(kit.config())
    bodies: list[str] = []
    connector._sts("us-east-1").meta.events.register(
        "before-send.sts.AssumeRole", lambda request, **_: bodies.append(str(request.body))
    )
    list(connector.iter_images(Scope(kit.ACCOUNT_A, "us-east-1")))
    list(connector.iter_images(Scope(kit.ACCOUNT_B, "us-east-1")))
    list(connector.iter_assets(Scope(kit.ACCOUNT_A, "us-east-1")))  # credentials are reused, not re-assumed
    assert len(bodies) == 2
    assert "RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fqlrf-scan" in bodies[0]
    assert "ExternalId=qlrf-ext-a" in bodies[0] and "RoleSessionName=qlrf-inventory" in bodies[0]
    assert "RoleSessionName=qlrf-scan-b" in bodies[1] and "ExternalId" not in bodies[1]


def test_account_without_role_uses_the_base_session(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(accounts=[{"account_id": kit.BASE_ACCOUNT}], regions=["us-east-1"]))
    result = kit.scan(connector)
    assert result.failures == {}
    assert result.images == {f"{kit.BASE_ACCOUNT}/us-east-1": []}  # account A's AMIs are not the base account's
    assert result.assets == {f"{kit.BASE_ACCOUNT}/us-east-1": []}


def test_test_connection_summarises_identity_and_accounts(kit, moto_world) -> None:
    summary = AwsConnector(kit.config()).test_connection()
    assert summary == (
        "authenticated as arn:aws:sts::123456789012:user/moto; 2 account(s) reachable "
        "(111111111111, 222222222222); 2 region(s)"
    )


def test_secret_is_used_as_base_credentials(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(), secret="AKIAQLRFEXAMPLE:c2VjcmV0")
    headers: list[str] = []
    connector._sts("us-east-1").meta.events.register(
        "before-send.sts.GetCallerIdentity",
        lambda request, **_: headers.append(request.headers["Authorization"].decode()),
    )
    connector.test_connection()
    assert len(headers) == 1
    assert "Credential=AKIAQLRFEXAMPLE/" in headers[0]


def test_default_chain_when_no_secret(kit, moto_world) -> None:
    connector = AwsConnector(kit.config())
    headers: list[str] = []
    connector._sts("us-east-1").meta.events.register(
        "before-send.sts.GetCallerIdentity",
        lambda request, **_: headers.append(request.headers["Authorization"].decode()),
    )
    connector.test_connection()
    # mock_aws swaps in its own fake environment credentials: the default chain must have picked those up.
    assert len(headers) == 1 and f"Credential={os.environ['AWS_ACCESS_KEY_ID']}/" in headers[0]


def test_expiring_role_credentials_are_assumed_again(kit, moto_world) -> None:
    connector = AwsConnector(kit.config())
    sends: list[str] = []
    connector._sts("us-east-1").meta.events.register("before-send.sts.AssumeRole", lambda **_: sends.append("x"))
    scope = Scope(kit.ACCOUNT_A, "us-east-1")
    first = connector._client("ec2", scope)
    assert connector._client("ec2", scope) is first and len(sends) == 1
    # Credentials 4 minutes from expiry are inside the 5-minute margin: both caches must be renewed.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)
    connector._role_credentials[kit.ACCOUNT_A].expires = soon
    connector._clients[("ec2", kit.ACCOUNT_A, "us-east-1")].expires = soon
    renewed = connector._client("ec2", scope)
    assert renewed is not first and len(sends) == 2
    assert {i.image_ref for i in connector.iter_images(scope)} == {
        moto_world.ami_web,
        moto_world.ami_base,
        moto_world.ami_scratch,
    }
