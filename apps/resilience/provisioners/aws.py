"""AWS pilot lights: ``RunInstances`` from the golden AMI's regional copy, tagged with the drill run, terminated after.

The EC2 client is the inventory AWS connector's own (its credential reference, AssumeRole into the target account,
endpoint URL, timeouts and adaptive retries), so a drill needs no configuration of its own.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from apps.inventory.connectors.aws_support import SDK_ERRORS, describe_error
from apps.inventory.connectors.base import ConnectorError, Scope

from .base import TAG_KEY, BaseProvisioner, Machine, ProvisionError, RecoveryPoint, register_provisioner

LIVE_STATES = ["pending", "running", "stopping", "stopped"]


@contextlib.contextmanager
def _sdk_errors() -> Iterator[None]:
    """Every connector or botocore failure becomes a ProvisionError with the connector's wording."""
    try:
        yield
    except ConnectorError as exc:
        raise ProvisionError(str(exc)) from exc
    except SDK_ERRORS as exc:
        raise ProvisionError(describe_error(exc, max_attempts=1)) from exc


def _machine(instance: dict[str, Any]) -> Machine:
    return Machine(
        id=instance["InstanceId"],
        state=instance["State"]["Name"],
        image_ref=instance.get("ImageId", ""),
        private_ip=instance.get("PrivateIpAddress"),
        public_ip=instance.get("PublicIpAddress"),
    )


@register_provisioner
class AwsProvisioner(BaseProvisioner):
    """EC2 instances in one account and region."""

    slug = "aws"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.account = self.target["aws"]["account"]
        self.region = self.target["aws"]["region"]
        self._ec2 = None

    @property
    def location(self) -> str:
        return self.region

    def artifact_matches(self, artifact) -> bool:
        return artifact.region == self.region and artifact.account in ("", self.account)

    @property
    def ec2(self) -> Any:
        """The connector's EC2 client for the target account and region (built once)."""
        if self._ec2 is None:
            from apps.inventory.services.connectors import connector_build

            with _sdk_errors():
                connector = connector_build(self.connector)
                # The connector is the one place AWS clients are made (timeouts, retries, AssumeRole, endpoint).
                self._ec2 = connector._client("ec2", Scope(account=self.account, region=self.region))
        return self._ec2

    def artifact_present(self, image_ref: str) -> bool:
        with _sdk_errors():
            images = self.ec2.describe_images(Filters=[{"Name": "image-id", "Values": [image_ref]}])["Images"]
        return any(image.get("State", "available") == "available" for image in images)

    def provision(self, *, image_ref: str, pilot: dict[str, Any], tag: str) -> list[str]:
        count = int(pilot["count"])
        params: dict[str, Any] = {
            "ImageId": image_ref,
            "InstanceType": pilot["instance_type"],
            "MinCount": count,
            "MaxCount": count,
            "TagSpecifications": [  # tagged at launch: there is no moment an instance exists untagged
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": TAG_KEY, "Value": tag}, {"Key": "Name", "Value": f"qlrf-drill-{tag}"}],
                }
            ],
        }
        aws = self.target["aws"]
        if aws.get("subnet_id"):
            params["SubnetId"] = aws["subnet_id"]
        if aws.get("security_group_ids"):
            params["SecurityGroupIds"] = aws["security_group_ids"]
        with _sdk_errors():
            reply = self.ec2.run_instances(**params)
        return [instance["InstanceId"] for instance in reply["Instances"]]

    def describe(self, ids: list[str]) -> list[Machine]:
        if not ids:
            return []
        with _sdk_errors():
            pages = self.ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
            found = {m.id: m for page in pages for r in page["Reservations"] for m in map(_machine, r["Instances"])}
        return [found.get(i, Machine(id=i, state="missing")) for i in ids]

    def wait_running(self, ids: list[str], *, timeout: float) -> list[Machine]:
        deadline = time.monotonic() + timeout
        while True:
            machines = self.describe(ids)
            if all(m.state == "running" for m in machines) or time.monotonic() >= deadline:
                return machines
            if any(m.state in ("terminated", "shutting-down", "missing") for m in machines):
                return machines
            time.sleep(self.poll_seconds)

    def destroy(self, ids: list[str]) -> list[str]:
        live = [m.id for m in self.describe(ids) if m.state not in ("terminated", "missing")]
        if live:
            with _sdk_errors():
                self.ec2.terminate_instances(InstanceIds=live)
        return list(ids)

    def tagged(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        filters = [{"Name": "tag-key", "Values": [TAG_KEY]}, {"Name": "instance-state-name", "Values": LIVE_STATES}]
        with _sdk_errors():
            for page in self.ec2.get_paginator("describe_instances").paginate(Filters=filters):
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                        found.setdefault(tags[TAG_KEY], []).append(instance["InstanceId"])
        return found

    def recovery_point(self, spec: dict[str, Any]) -> RecoveryPoint | None:
        tag = spec["tag"]
        filters = [{"Name": "status", "Values": ["completed"]}]
        filters.append(
            {"Name": f"tag:{tag['key']}", "Values": [tag["value"]]}
            if "value" in tag
            else {"Name": "tag-key", "Values": [tag["key"]]}
        )
        with _sdk_errors():
            pages = self.ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"], Filters=filters)
            snapshots = [s for page in pages for s in page["Snapshots"]]
        if not snapshots:
            return None
        newest = max(snapshots, key=lambda s: s["StartTime"])
        return RecoveryPoint(at=newest["StartTime"], ref=newest["SnapshotId"])
