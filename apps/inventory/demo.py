"""Demo fleet: a synthetic connector placing a few thousand machines on the demo registry's images, then scanned."""

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


def demo_image_refs() -> dict[str, list[list]]:
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
        refs[row["platform"]].append([row["image_ref"], WEIGHT_BY_AGE[min(age, len(WEIGHT_BY_AGE) - 1)]])
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
        return [f"Demo fleet: {run.discovered} machines on 4 platforms (scan {run.status})"]
    return [f"Demo fleet: connector {DEMO_CONNECTOR} already present"]
