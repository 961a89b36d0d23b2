"""The acme fleet the GCP asset and image tests run against (built on the fake Compute API of ../conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

BASE = "https://www.googleapis.com/compute/v1/"
IMAGES = f"{BASE}projects/acme-images/global/images/"
P_IMAGES = f"{BASE}projects/p/global/images/"
BETA_IMAGE = "https://compute.googleapis.com/compute/beta/projects/acme-images/global/images/golden-web-v1-1-0"


@pytest.fixture
def fleet(compute: Any) -> dict[str, dict]:
    """Project acme-prod (7 machines, 2 MIGs) and image project acme-images (8 images), named resources returned.

    Traps: a MIG whose template names the family ``projects/p/global/images/family/ubuntu-2204`` while its two
    members' disks came from two different concrete images; a regional MIG with a regional template; a TERMINATED
    machine; a disk whose sourceImage is a family URL (resolved through sourceImageId); a disk missing from the
    aggregated disk list; a machine restored from a snapshot; a zone (us-east1-b) that only ever answers with the
    no-results warning; family rankings where the newest image is deprecated or not READY, or where timestamps in
    different offsets sort differently as strings than as instants.
    """
    c, p, r = compute, "acme-prod", {}
    c.scopes[p] += ["zones/us-central1-a", "zones/us-central1-b", "zones/us-east1-b", "regions/us-central1"]
    r["golden-web-v1-0-0"] = c.add_image(
        "acme-images",
        "golden-web-v1-0-0",
        family="golden-web",
        created="2024-01-10T10:00:00.000-08:00",
        deprecated="DEPRECATED",
    )
    r["golden-web-v1-1-0"] = c.add_image(
        "acme-images",
        "golden-web-v1-1-0",
        family="golden-web",
        created="2024-02-01T10:00:00.000-08:00",
        labels={"version": "1-1-0"},
    )
    r["golden-web-v1-2-0"] = c.add_image(
        "acme-images",
        "golden-web-v1-2-0",
        family="golden-web",
        created="2024-02-15T10:00:00.000-08:00",
        deprecated="DEPRECATED",
    )
    r["golden-web-v1-3-0"] = c.add_image(
        "acme-images",
        "golden-web-v1-3-0",
        family="golden-web",
        created="2024-03-01T10:00:00.000-08:00",
        status="PENDING",
    )
    r["golden-api-v2-0-0"] = c.add_image(
        "acme-images",
        "golden-api-v2-0-0",
        family="golden-api",
        created="2024-02-10T10:00:00.000-08:00",
        labels={"team": "api"},
    )
    r["base-a"] = c.add_image("acme-images", "base-a", family="base", created="2024-02-01T23:00:00.000-08:00")
    r["base-b"] = c.add_image("acme-images", "base-b", family="base", created="2024-02-02T01:00:00.000+00:00")
    r["scratch-build"] = c.add_image("acme-images", "scratch-build", created="2024-03-05T10:00:00.000-08:00")

    web_tmpl = c.add_template(p, "web-tmpl", "projects/p/global/images/family/ubuntu-2204")
    c.add_template(p, "unused-tmpl", "global/images/scratch-build")
    web_disk_1 = c.add_disk(p, "us-central1-a", "web-1", source_image=f"{P_IMAGES}ubuntu-2204-jammy-v20240110")
    web_disk_2 = c.add_disk(p, "us-central1-a", "web-2", source_image=f"{P_IMAGES}ubuntu-2204-jammy-v20240214")
    r["web-1"] = c.add_instance(p, "us-central1-a", "web-1", disk=web_disk_1, labels={"app": "web", "env": "prod"})
    r["web-2"] = c.add_instance(p, "us-central1-a", "web-2", disk=web_disk_2, labels={"app": "web", "env": "prod"})
    r["web-mig"] = c.add_mig(p, "web-mig", web_tmpl["selfLink"], [r["web-1"], r["web-2"]], zone="us-central1-a")

    api_tmpl = c.add_template(
        p, "api-tmpl", "projects/acme-images/global/images/golden-api-v2-0-0", region="us-central1"
    )
    api_disk = c.add_disk(
        p,
        "us-central1-b",
        "api-1",
        source_image=f"{IMAGES}golden-api-v2-0-0",
        source_image_id=r["golden-api-v2-0-0"]["id"],
    )
    r["api-1"] = c.add_instance(p, "us-central1-b", "api-1", disk=api_disk)
    r["api-mig"] = c.add_mig(p, "api-mig", api_tmpl["selfLink"], [r["api-1"]], region="us-central1")

    db_disk = c.add_disk(p, "us-central1-b", "db-1", source_image=f"{IMAGES}golden-web-v1-0-0")
    r["db-1"] = c.add_instance(p, "us-central1-b", "db-1", status="TERMINATED", disk=db_disk, labels={"role": "db"})
    legacy_disk = c.add_disk(
        p,
        "us-central1-b",
        "legacy-1",
        source_image=f"{IMAGES}family/golden-web",
        source_image_id=r["golden-web-v1-1-0"]["id"],
    )
    r["legacy-1"] = c.add_instance(p, "us-central1-b", "legacy-1", status="SUSPENDED", disk=legacy_disk)
    fresh_disk = c.add_disk(p, "us-central1-b", "fresh-1", listed=False, source_image=BETA_IMAGE)
    r["fresh-1"] = c.add_instance(p, "us-central1-b", "fresh-1", status="STAGING", disk=fresh_disk)
    snap_disk = c.add_disk(
        p, "us-central1-b", "restored-1", source_snapshot=f"{BASE}projects/{p}/global/snapshots/db-snap"
    )
    r["restored-1"] = c.add_instance(p, "us-central1-b", "restored-1", disk=snap_disk)
    return r
