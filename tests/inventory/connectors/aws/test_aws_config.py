"""The AWS config schema, construction-time checks and the pure normalisers' edge cases."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from apps.inventory.connectors.aws import AwsConnector, normalise_instance
from apps.inventory.connectors.aws_normalise import image_version, normalise_state
from apps.inventory.connectors.aws_support import parse_secret
from apps.inventory.connectors.base import ConnectorError

VALIDATOR = Draft202012Validator(AwsConnector.config_schema)


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(AwsConnector.config_schema)
    assert AwsConnector.config_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert AwsConnector.config_schema["additionalProperties"] is False


def test_full_config_is_valid(kit) -> None:
    config = kit.config(
        endpoint_url="http://127.0.0.1:5000",
        version_tag="Release",
        image_owners=["333333333333", "amazon"],
        connect_timeout=1.5,
        read_timeout=10,
    )
    assert list(VALIDATOR.iter_errors(config)) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"accounts": [{"account_id": "1234"}]}, ["accounts", 0, "account_id"]),
        ({"accounts": [{"account_id": "111111111111", "role": "x"}]}, ["accounts", 0]),
        ({"accounts": []}, ["accounts"]),
        ({"regions": []}, ["regions"]),
        ({"regions": ["us east"]}, ["regions", 0]),
        ({"version_name_pattern": r"v(\d+)"}, ["version_name_pattern"]),
        ({"image_owners": ["self"]}, ["image_owners", 0]),
        ({"max_attempts": 0}, ["max_attempts"]),
        ({"connect_timeout": 0}, ["connect_timeout"]),
        ({"endpoint_url": "127.0.0.1:5000"}, ["endpoint_url"]),
        ({"token": "x"}, []),
    ],
)
def test_invalid_configs_are_rejected(kit, change: dict, path: list) -> None:
    errors = list(VALIDATOR.iter_errors({**kit.config(), **change}))
    assert [list(error.absolute_path) for error in errors] == [path]


def test_missing_required_keys() -> None:
    assert sorted(e.message for e in VALIDATOR.iter_errors({})) == [
        "'accounts' is a required property",
        "'regions' is a required property",
    ]


def test_role_in_another_account_is_refused(kit) -> None:
    config = kit.config(accounts=[{"account_id": kit.ACCOUNT_A, "role_arn": kit.ROLE_B}])
    with pytest.raises(ConnectorError, match="belongs to account 222222222222, not 111111111111"):
        AwsConnector(config)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(?P<version>[", "not a valid regular expression"), (r"v(\d+)", r"named group \(\?P<version>")],
)
def test_bad_name_pattern_is_refused(kit, pattern: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        AwsConnector(kit.config(version_name_pattern=pattern))


def test_parse_secret_forms() -> None:
    assert parse_secret("AKIA1:s/e+c=") == {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s/e+c="}
    assert parse_secret("AKIA1:sec:tok\n") == {
        "aws_access_key_id": "AKIA1",
        "aws_secret_access_key": "sec",
        "aws_session_token": "tok",
    }
    for bad in ("AKIA1", "AKIA1:", ":sec", "a:b:c:d"):
        with pytest.raises(ConnectorError):
            parse_secret(bad)


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("running", "running"),
        ("stopped", "stopped"),
        ("pending", "pending"),
        ("stopping", "stopping"),
        ("shutting-down", None),
        ("terminated", None),
        ("", "unknown"),
        ("rebooting", "unknown"),
    ],
)
def test_state_normalisation(raw: str, state: str | None) -> None:
    assert normalise_state(raw) == state


def test_terminated_and_shutting_down_instances_are_not_assets() -> None:
    for state in ("terminated", "shutting-down"):
        instance = {"InstanceId": "i-1", "ImageId": "ami-1", "State": {"Name": state}}
        assert normalise_instance(instance, account="1", region="r", asg_by_instance={}) is None


def test_asg_api_membership_wins_over_the_tag() -> None:
    instance = {
        "InstanceId": "i-1",
        "State": {"Name": "running"},
        "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "from-tag"}, {"Key": "Env"}],
    }
    asset = normalise_instance(instance, account="1", region="r", asg_by_instance={"i-1": "from-api"})
    assert (asset.group_ref, asset.image_ref, asset.tags["Env"]) == ("from-api", "", "")
    assert [e.label for e in asset.edges] == ["member_of"]


def test_image_version_precedence() -> None:
    pattern = re.compile(r"-(?P<version>\d+\.\d+)$")
    assert image_version("web-1.2", {"Version": " 3.0 "}, version_tag="Version", name_pattern=pattern) == "3.0"
    assert image_version("web-1.2", {"Version": "  "}, version_tag="Version", name_pattern=pattern) == "1.2"
    assert image_version("web", {}, version_tag="Version", name_pattern=pattern) == ""
    assert image_version("web-1.2", {}, version_tag="Version", name_pattern=None) == ""
