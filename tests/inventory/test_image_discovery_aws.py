"""Done-when of issue 19: a scan of an AWS account of the usual kind (regional copies, tags) attaches every copy to its
version without registering each AMI id by hand — against moto's EC2/STS server, through the real connector."""

from __future__ import annotations

import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from apps.drift.engine import drift_evaluate
from apps.images.choices import ArtifactRuleKindChoices
from apps.images.models import ArtifactRule, ImageArtifact, ImageVersion
from apps.images.services import channel_promote
from apps.inventory.choices import ScanTriggerChoices
from apps.inventory.models import Asset, DiscoveredImage
from apps.inventory.services import connector_create, scan_run_now
from apps.tenancy.models import AuditEvent, Site
from tests.factories import EnvironmentFactory
from tests.factories.images import register

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "111111111111"
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
FAMILY = "ubuntu-2204-base"


@pytest.fixture
def moto(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
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
    _reset(endpoint)
    try:
        yield endpoint
    finally:
        _reset(endpoint)
        server.stop()


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def _session(endpoint: str) -> boto3.Session:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint)
    role = f"arn:aws:iam::{ACCOUNT}:role/setup"
    creds = sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _tags(ec2, image_id: str, **tags: str) -> None:
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _run(ec2, image_id: str, name: str, env: str = "prod") -> str:
    spec = [
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, {"Key": "Environment", "Value": env}]}
    ]
    reply = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=spec)
    return reply["Instances"][0]["InstanceId"]


def build_account(endpoint: str) -> dict[str, str]:
    """Two builds of the family, each made in us-east-1 and copied to the other regions the way pipelines do."""
    session = _session(endpoint)
    ec2 = {region: session.client("ec2", region_name=region, endpoint_url=endpoint) for region in REGIONS}
    ids: dict[str, str] = {}
    for version in ("1.0.0", "1.1.0"):
        name = f"golden-{FAMILY}-v{version}"
        source = ec2["us-east-1"].register_image(Name=name, RootDeviceName="/dev/sda1")["ImageId"]
        _tags(ec2["us-east-1"], source, Family=FAMILY, Version=version)
        ids[f"{version}/us-east-1"] = source
        # eu-west-1: a copy whose tags were copied too (CopyImageTags)
        tagged = ec2["eu-west-1"].copy_image(SourceImageId=source, SourceRegion="us-east-1", Name=name)["ImageId"]
        _tags(ec2["eu-west-1"], tagged, Family=FAMILY, Version=version)
        ids[f"{version}/eu-west-1"] = tagged
        # us-west-2: an untagged copy, renamed, with the description CopyImage's callers write
        untagged = ec2["us-west-2"].copy_image(
            SourceImageId=source,
            SourceRegion="us-east-1",
            Name=f"copy-of-{version}",
            Description=f"[Copied {source} from us-east-1] {name}",
        )["ImageId"]
        ids[f"{version}/us-west-2"] = untagged
    # a copy of a copy: untagged, same name as its source (Packer's ami_regions keeps the name), no description
    ids["1.1.0/us-west-2b"] = ec2["us-west-2"].copy_image(
        SourceImageId=ids["1.1.0/eu-west-1"], SourceRegion="eu-west-1", Name="golden-ubuntu-2204-base-v1.1.0"
    )["ImageId"]
    ids["scratch"] = ec2["eu-west-1"].register_image(Name="scratch-build", RootDeviceName="/dev/sda1")["ImageId"]
    _tags(ec2["eu-west-1"], ids["scratch"], Owner="qa")
    ids["web-new-use1"] = _run(ec2["us-east-1"], ids["1.1.0/us-east-1"], "web-new-use1")
    ids["web-new-euw1"] = _run(ec2["eu-west-1"], ids["1.1.0/eu-west-1"], "web-new-euw1")
    ids["web-new-usw2"] = _run(ec2["us-west-2"], ids["1.1.0/us-west-2"], "web-new-usw2")
    ids["web-new-usw2b"] = _run(ec2["us-west-2"], ids["1.1.0/us-west-2b"], "web-new-usw2b")
    ids["web-old-euw1"] = _run(ec2["eu-west-1"], ids["1.0.0/eu-west-1"], "web-old-euw1")
    ids["web-old-usw2"] = _run(ec2["us-west-2"], ids["1.0.0/us-west-2"], "web-old-usw2")
    ids["scratch-vm"] = _run(ec2["eu-west-1"], ids["scratch"], "scratch-vm")
    return ids


def _config(endpoint: str) -> dict:
    return {
        "accounts": [{"account_id": ACCOUNT, "role_arn": f"arn:aws:iam::{ACCOUNT}:role/qlrf-scan"}],
        "regions": REGIONS,
        "endpoint_url": endpoint,
        "max_attempts": 2,
        "connect_timeout": 2,
        "read_timeout": 10,
    }


def test_a_scan_attaches_every_regional_copy_to_its_version(tenant_a, ubuntu_contract, moto):
    ids = build_account(moto)
    org = tenant_a.organization
    prod = EnvironmentFactory(organization=org, slug="prod", name="Production")
    old = register(tenant_a, ubuntu_contract, "1.0.0")
    new = register(tenant_a, ubuntu_contract, "1.1.0")
    assert ImageArtifact.objects.filter(organization=org).count() == 0  # not one AMI id registered by hand
    ArtifactRule.objects.create(organization=org, name="a-tags", kind=ArtifactRuleKindChoices.TAGS)
    ArtifactRule.objects.create(organization=org, name="b-copies", kind=ArtifactRuleKindChoices.COPY_SOURCE)
    channel_promote(actor=None, version=old, environment=prod, grace_days=0)
    channel_promote(actor=None, version=new, environment=prod, grace_days=0)
    connector = connector_create(
        actor=None,
        organization=org,
        platform="aws",
        name="aws-prod",
        config=_config(moto),
        credential_ref="env:QLRF_TEST_AWS_KEYS",
        environment_rules={"tag": "Environment"},
    )

    run = scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)

    assert run.status == "succeeded", run.error
    assert run.image_scopes == {
        f"{ACCOUNT}/{region}": {"status": "succeeded", "discovered": count, "removed": 0}
        for region, count in (("us-east-1", 2), ("eu-west-1", 3), ("us-west-2", 3))
    }
    by_ref = {a.image_ref: a.version_id for a in ImageArtifact.objects.filter(organization=org)}
    expected = {ids[k]: (old if k.startswith("1.0.0") else new).pk for k in ids if k[0] == "1" and "/" in k}
    assert by_ref == expected  # every copy, tagged or not, copy of a copy included — and nothing else
    artifacts = {a.image_ref: a for a in ImageArtifact.objects.filter(organization=org)}
    assert {(a.account, a.region) for a in artifacts.values()} == {(ACCOUNT, r) for r in REGIONS}
    scratch = DiscoveredImage.objects.get(organization=org, image_ref=ids["scratch"])
    assert scratch.artifact_id is None and scratch.state == "available"
    notes = dict(DiscoveredImage.objects.filter(organization=org).values_list("image_ref", "match_note"))
    assert notes[ids["1.1.0/eu-west-1"]] == "tags rule 'a-tags'"
    assert notes[ids["1.1.0/us-west-2"]] == "copy_source rule 'b-copies'"
    assert notes[ids["1.1.0/us-west-2b"]] == "copy_source rule 'b-copies'"
    copied = DiscoveredImage.objects.get(organization=org, image_ref=ids["1.1.0/us-west-2"])
    assert copied.source_ref == ids["1.1.0/us-east-1"]
    assert AuditEvent.objects.filter(organization=org, action="images.imageartifact.add").count() == len(expected)
    assert AuditEvent.objects.filter(organization=org, action="images.artifactrule.apply").count() == 2

    # the machines resolve on the copies in the same scan, and drift classifies them
    versions = dict(Asset.objects.filter(organization=org).values_list("name", "image_version_id"))
    assert versions == {
        "web-new-use1": new.pk,
        "web-new-euw1": new.pk,
        "web-new-usw2": new.pk,
        "web-new-usw2b": new.pk,
        "web-old-euw1": old.pk,
        "web-old-usw2": old.pk,
        "scratch-vm": None,
    }
    cells = drift_evaluate(org).cells
    total = {name: sum(getattr(c, name) for c in cells.values()) for name in ("compliant", "outdated", "unmanaged")}
    assert total == {"compliant": 4, "outdated": 2, "unmanaged": 1}

    # sites: one per region, named and editable; a rename survives the next scan
    sites = {s.region: s for s in Site.objects.filter(organization=org)}
    assert set(sites) == set(REGIONS)
    assert sites["eu-west-1"].name == "AWS eu-west-1" and sites["eu-west-1"].kind == "cloud_region"
    assert dict(Asset.objects.filter(organization=org).values_list("name", "site__region"))["web-old-usw2"] == (
        "us-west-2"
    )
    Site.objects.filter(pk=sites["eu-west-1"].pk).update(name="Ireland", slug="ireland")

    again = scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)

    assert again.status == "succeeded"
    assert Site.objects.filter(organization=org).count() == 3
    assert Site.objects.get(pk=sites["eu-west-1"].pk).name == "Ireland"
    assert ImageArtifact.objects.filter(organization=org).count() == len(expected)  # idempotent
    assert ImageVersion.objects.filter(organization=org).count() == 2


def test_an_image_the_contract_does_not_target_stays_unmatched_with_the_reason(tenant_a, windows_contract, moto):
    session = _session(moto)
    ec2 = session.client("ec2", region_name="us-east-1", endpoint_url=moto)
    image = ec2.register_image(Name="win", RootDeviceName="/dev/sda1")["ImageId"]
    _tags(ec2, image, Family="windows-2022-core", Version="2.0.0")
    org = tenant_a.organization
    version = register(tenant_a, windows_contract, "2.0.0")
    if "aws" in (version.contract.get("targets") or {}):
        pytest.skip("the windows example contract targets AWS")
    ArtifactRule.objects.create(organization=org, name="tags", kind=ArtifactRuleKindChoices.TAGS)
    connector = connector_create(
        actor=None,
        organization=org,
        platform="aws",
        name="aws",
        config={**_config(moto), "regions": ["us-east-1"]},
        credential_ref="env:QLRF_TEST_AWS_KEYS",
    )

    run = scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)

    assert run.status == "succeeded"
    found = DiscoveredImage.objects.get(organization=org, image_ref=image)
    assert found.artifact_id is None
    assert "does not target 'aws'" in found.match_note
    assert not ImageArtifact.objects.filter(organization=org).exists()
