"""Failures inside a scope become ScopeFailed with a readable reason: throttling (real botocore retries), refusals."""

from __future__ import annotations

import pytest

from apps.inventory.connectors.aws import AwsConnector
from apps.inventory.connectors.base import ConnectorError, Scope, ScopeFailed

THROTTLED = ("RequestLimitExceeded", "Request limit exceeded.")
DENIED_MESSAGE = (
    "User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: sts:AssumeRole on resource: "
    "arn:aws:iam::111111111111:role/qlrf-scan"
)


def throttle_first(kit, client, operation: str, count: int, status: int) -> list[int]:
    """Answer the first ``count`` sends of ``operation`` with a throttling error; return the per-call log."""
    calls: list[int] = []
    respond = kit.canned_response(status, kit.ec2_error_xml(*THROTTLED))

    def hook(request, **kwargs):
        calls.append(len(calls) + 1)
        return respond(request, **kwargs) if len(calls) <= count else None

    client.meta.events.register(f"before-send.ec2.{operation}", hook)
    return calls


def test_throttling_below_max_attempts_is_retried_to_success(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(max_attempts=3))
    scope = Scope(kit.ACCOUNT_A, "us-east-1")
    calls = throttle_first(kit, connector._client("ec2", scope), "DescribeInstances", count=2, status=503)
    assets = list(connector.iter_assets(scope))
    assert len(calls) == 3  # two throttled sends, then the one moto answered
    assert {a.instance_id for a in assets} == {moto_world.web_1, moto_world.batch_1, *moto_world.asg_members}


@pytest.mark.parametrize(("status", "count"), [(400, 2), (503, 50)])
def test_throttling_up_to_max_attempts_fails_the_scope(kit, moto_world, status: int, count: int) -> None:
    connector = AwsConnector(kit.config(max_attempts=2))
    scope = Scope(kit.ACCOUNT_A, "us-east-1")
    calls = throttle_first(kit, connector._client("ec2", scope), "DescribeImages", count=count, status=status)
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(scope))
    assert len(calls) == 2
    assert failed.value.scope == scope
    assert failed.value.reason == "throttled after 2 attempts (RequestLimitExceeded in DescribeImages)"
    assert str(failed.value) == f"{kit.ACCOUNT_A}/us-east-1: {failed.value.reason}"


def test_one_region_failing_does_not_stop_the_other(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(accounts=[{"account_id": kit.ACCOUNT_A, "role_arn": kit.ROLE_A}]))
    denied = kit.canned_response(403, kit.ec2_error_xml("UnauthorizedOperation", "You are not authorized."))
    connector._client("ec2", Scope(kit.ACCOUNT_A, "eu-west-1")).meta.events.register(
        "before-send.ec2.DescribeInstances", denied
    )
    result = kit.scan(connector)
    assert result.failures == {
        f"{kit.ACCOUNT_A}/eu-west-1": "UnauthorizedOperation in DescribeInstances: You are not authorized."
    }
    assert {a.instance_id for a in result.assets[f"{kit.ACCOUNT_A}/us-east-1"]} == {
        moto_world.web_1,
        moto_world.batch_1,
        *moto_world.asg_members,
    }
    assert f"{kit.ACCOUNT_A}/eu-west-1" not in result.assets


def test_assume_role_denied_fails_the_scope_and_the_connection_test(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(regions=["us-east-1"]))
    denied = kit.canned_response(403, kit.sts_error_xml("AccessDenied", DENIED_MESSAGE))
    connector._sts("us-east-1").meta.events.register("before-send.sts.AssumeRole", denied)
    expected = f"AccessDenied: AssumeRole denied for {kit.ROLE_A}: {DENIED_MESSAGE}"
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(Scope(kit.ACCOUNT_A, "us-east-1")))
    assert failed.value.reason == expected
    with pytest.raises(ConnectorError) as refused:
        connector.test_connection()
    assert str(refused.value) == expected
    assert kit.scan(connector).failures == {
        f"{kit.ACCOUNT_A}/us-east-1": expected,
        f"{kit.ACCOUNT_B}/us-east-1": f"AccessDenied: AssumeRole denied for {kit.ROLE_B}: {DENIED_MESSAGE}",
    }


def test_account_without_role_must_be_the_base_account(kit, moto_world) -> None:
    connector = AwsConnector(kit.config(accounts=[{"account_id": "333333333333"}], regions=["us-east-1"]))
    reason = "account 333333333333 has no role_arn, but the base credentials are 123456789012's"
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_images(Scope("333333333333", "us-east-1")))
    assert failed.value.reason == reason
    with pytest.raises(ConnectorError, match="^account 333333333333 has no role_arn"):
        connector.test_connection()


def test_unconfigured_scope_is_refused(kit, moto_world) -> None:
    connector = AwsConnector(kit.config())
    with pytest.raises(ScopeFailed) as failed:
        list(connector.iter_assets(Scope(kit.ACCOUNT_A, "ap-south-1")))
    assert failed.value.reason == "scope is not part of this connector's configuration"
