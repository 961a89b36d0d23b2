"""Parse a scenario file (safe YAML + its JSON Schema) and load it into an organisation through the real services."""

from __future__ import annotations

import datetime
import json
import uuid
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml
from django.conf import settings
from django.utils import timezone

from apps.images.models import Channel, ChannelAssignment, ImageVersion
from apps.images.services import image_version_publish, image_version_register
from apps.inventory.choices import ScanTriggerChoices
from apps.inventory.models import Connector
from apps.inventory.services import scan_create, scan_execute
from apps.tenancy.models import Environment, Organization

from .machines import ScenarioConnector

MAX_BYTES = 1024 * 1024
VSPHERE_TARGET = """  vsphere:
    - vcenter: vcsa01.example.com
      datacenter: DC1
      content_library: golden-images
      folder: /DC1/vm/Templates
"""


class ScenarioError(ValueError):
    """The scenario file is unreadable or fails its schema; ``path`` is the JSON pointer of the fault."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(f"{path or '/'}: {message}" if path else message)
        self.path = path


@lru_cache(maxsize=1)
def _validator():
    schema = json.loads((Path(settings.BASE_DIR) / "contracts" / "fleet-scenario.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def scenario_parse(data: bytes | str) -> dict:
    """Safe-load and validate a scenario; ScenarioError names the first fault."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"scenario is larger than {MAX_BYTES} bytes")
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {exc}".splitlines()[0]) from None
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise ScenarioError(error.message, "".join(f"/{p}" for p in error.absolute_path))
    return document


def _contract(family: str, scheme: str = "semver") -> str:
    text = (Path(settings.BASE_DIR) / "contracts" / "examples" / "ubuntu-22.04.contract.yaml").read_text()
    text = text.replace("  family: ubuntu-2204-base\n", f"  family: {family}\n", 1)
    text = text.replace("  version_scheme: semver\n", f"  version_scheme: {scheme}\n", 1)
    return text.rstrip("\n") + "\n" + VSPHERE_TARGET


def _days_ago(now: datetime.datetime, days: float) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def _load_registry(organization, scenario: dict, now) -> dict[tuple[str, str], ImageVersion]:
    versions = {}
    for family in scenario["families"]:
        contract = _contract(family["family"], family.get("version_scheme", "semver"))
        for entry in family["versions"]:
            version, _ = image_version_register(
                actor=None,
                organization=organization,
                contract=contract,
                version=entry["version"],
                parent=entry.get("parent"),
                artifacts=entry.get("artifacts", []),
            )
            if version.status == "draft":  # a child of a revoked parent is born revoked
                version = image_version_publish(actor=None, version=version)
            if "revoked_days_ago" in entry:  # history as of the scenario: set the revocation time directly
                ImageVersion.objects.filter(pk=version.pk).update(
                    revoked_at=_days_ago(now, entry["revoked_days_ago"]), status="revoked"
                )
            versions[(family["family"], entry["version"])] = version
    return versions


def _load_channels(organization, scenario: dict, versions, environments, now) -> None:
    for spec in scenario.get("channels", []):
        channel = Channel.objects.create(
            organization=organization,
            family=versions[(spec["family"], spec["history"][0]["version"])].family,
            environment=environments[spec["environment"]],
            grace_days=spec.get("grace_days", 7),
        )
        previous = None
        for step in sorted(spec["history"], key=lambda s: -s["days_ago"]):
            at = _days_ago(now, step["days_ago"])
            target = versions[(spec["family"], step["version"])]
            grace = datetime.timedelta(days=channel.grace_days if previous else 0)
            ChannelAssignment.objects.create(
                organization=organization,
                channel=channel,
                from_version=previous,
                to_version=target,
                assigned_at=at,
                grace_until=at + grace,
            )
            previous = target
        Channel.objects.filter(pk=channel.pk).update(version=previous)


def scenario_load(scenario: dict) -> Organization:
    """A fresh organisation holding the scenario: registry, channel history, and two scans of its machines."""
    now = timezone.now()
    organization = Organization.objects.create(
        name=f"scenario {uuid.uuid4().hex[:8]}",
        slug=f"scenario-{uuid.uuid4().hex[:8]}",
        coverage_excludes_not_running=scenario.get("coverage_excludes_not_running", False),
    )
    environments = {
        slug: Environment.objects.create(
            organization=organization,
            name=slug,
            slug=slug,
            tier="prod" if slug == "prod" else "dev",
            signature_policy="warn",
        )
        for slug in scenario["environments"]
    }
    versions = _load_registry(organization, scenario, now)
    _load_channels(organization, scenario, versions, environments, now)
    connector = Connector.objects.create(
        organization=organization, platform="synthetic", name="scenario", config={"count": 0}, enabled=False
    )
    for failing in (set(), set(scenario.get("failed_scopes", []))):
        run = scan_create(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)
        scan_execute(run=run, connector_impl=ScenarioConnector(scenario["assets"], failing))
    return organization
