"""Demo fleet: a synthetic connector placing a few thousand machines on the demo registry's images, then scanned.

Beside it, a legacy vCenter (Berlin) whose production machines still run the oldest images, and one of whose two
vCenters does not answer: its scan ends ``partial`` and its prod cell is red.
"""

from __future__ import annotations

from collections import defaultdict

from apps.images.demo import DEMO_ARTIFACTS
from apps.images.versioning import ranked, scheme_for

from .choices import ScanTriggerChoices
from .models import Connector
from .services import connector_create, scan_run_now

DEMO_CONNECTOR = "demo-fleet"
FLEET_SIZE = 3000
REGIONS = {
    "aws": ["eu-west-1", "us-east-1"],
    "azure": ["westeurope"],
    "gcp": ["europe-west1"],
    "vsphere": ["dc-frankfurt"],
}
WEIGHT_BY_AGE = [8.0, 3.0, 1.0, 0.6]  # newest version of a family first: most machines run recent images
LEGACY_CONNECTOR = "dc-berlin-legacy"
LEGACY_WEIGHT_BY_AGE = [0.3, 0.5, 2.0, 6.0]  # the legacy site lags: mostly the oldest versions


def demo_image_refs(weights: list[float] = WEIGHT_BY_AGE) -> dict[str, list[list]]:
    """platform → [[image_ref, weight]]: newer versions of each family weigh more, so the fleet drifts realistically."""
    by_family = defaultdict(set)
    for row in DEMO_ARTIFACTS:
        by_family[row["family"]].add(row["version"])
    rank = {
        (family, version): index
        for family, versions in by_family.items()
        for index, version in enumerate(reversed(ranked(scheme_for(versions), versions)))
    }
    refs: dict[str, list[list]] = defaultdict(list)
    for row in DEMO_ARTIFACTS:
        age = rank[(row["family"], row["version"])]
        refs[row["platform"]].append([row["image_ref"], weights[min(age, len(weights) - 1)]])
    return dict(refs)


def load(context: dict) -> list[str]:
    """Create and scan the demo fleet once (idempotent)."""
    organization = context["organization"]
    connector = Connector.objects.filter(organization=organization, name=DEMO_CONNECTOR).first()
    if connector is None:
        connector = connector_create(
            actor=None,
            organization=organization,
            platform="synthetic",
            name=DEMO_CONNECTOR,
            config={
                "count": FLEET_SIZE,
                "seed": 2026,
                "accounts": 2,
                "regions": REGIONS,
                "image_refs": demo_image_refs(),
                "environments": ["dev", "staging", "prod"],
                "unmanaged_ratio": 0.03,
                "stopped_ratio": 0.05,
            },
            environment_rules={"tag": "Environment", "values": {"production": "prod"}},
            schedule_minutes=60,
        )
        run = scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)
        context["demo_scan"] = run
        return [f"Demo fleet: {run.discovered} machines on 4 platforms (scan {run.status})", _legacy(organization)]
    return [f"Demo fleet: connector {DEMO_CONNECTOR} already present"]


def _legacy(organization) -> str:
    """The Berlin vCenters: production machines on old images; the second vCenter fails every scan."""
    connector = connector_create(
        actor=None,
        organization=organization,
        platform="synthetic",
        name=LEGACY_CONNECTOR,
        config={
            "count": 240,
            "seed": 1989,
            "accounts": 2,
            "regions": {"vsphere": ["dc-berlin"]},
            "image_refs": {"vsphere": demo_image_refs(LEGACY_WEIGHT_BY_AGE)["vsphere"]},
            "environments": ["prod"],
            "unmanaged_ratio": 0.02,
            "fail_scopes": ["vsphere-001/dc-berlin"],
        },
        environment_rules={"tag": "Environment", "values": {"production": "prod"}},
        schedule_minutes=60,
    )
    run = scan_run_now(actor=None, connector=connector, trigger=ScanTriggerChoices.CLI)
    return f"Legacy site: {run.discovered} machines in Berlin (scan {run.status}: one vCenter does not answer)"
