"""A small, exactly-counted fleet for the portal tests (unit and browser): registry, channels, assets, a scan.

Tenant A ("alpha"), per (environment, site):
- prod × aws-eu: 6 on 1.0.0 (outdated), 2 on 1.1.0, 1 stopped on 1.0.0  → coverage 25 % (red)
- prod × aws-us: 9 on 1.1.0, 1 on 1.0.0 (outdated)                      → coverage 90 % (green)
- dev  × aws-eu: 4 on 1.1.0, 1 unmanaged, 1 stale (seen before the last scan) → coverage 80 % (amber)
"""

from __future__ import annotations

import datetime
import hashlib

from django.utils import timezone

from apps.images.services import channel_promote
from apps.inventory.models import Asset, ScanRun
from apps.inventory.services import connector_create
from tests.factories import EnvironmentFactory, SiteFactory
from tests.factories.images import UBUNTU, register

AMI = {"platform": "aws", "account": "111122223333", "region": "eu-west-1"}


def _asset(org, prefix, n, *, env, site, version, state="running", connector=None, seen=None, now=None):
    instance = f"i-{prefix}-{n:05d}"
    return Asset(
        organization=org,
        connector=connector,
        platform="aws",
        account="111122223333",
        region=site.region,
        site=site,
        environment=env,
        instance_id=instance,
        name=f"{prefix}-{n:05d}",
        state=state,
        image_ref="ami-x",
        image_version=version,
        fingerprint=hashlib.sha256(instance.encode()).hexdigest(),
        first_seen=now - datetime.timedelta(days=30),
        last_seen=seen or now,
    )


def build_fleet(tenant, tag: str) -> dict:
    """Registry (1.0.0 → 1.1.0 promoted with no grace in prod), environments, sites, the assets above, one scan."""
    org, now = tenant.organization, timezone.now()
    engineer = tenant.users["engineer"]
    envs = {
        slug: EnvironmentFactory(organization=org, slug=slug, name=f"{slug}-{tag}", tier=slug)
        for slug in ("dev", "prod")
    }
    sites = {
        "aws-eu": SiteFactory(organization=org, slug="aws-eu", name=f"eu-{tag}", region="eu-west-1"),
        "aws-us": SiteFactory(organization=org, slug="aws-us", name=f"us-{tag}", region="us-east-1"),
    }
    v1 = register(tenant, UBUNTU, "1.0.0", artifacts=[{**AMI, "image_ref": f"ami-0{tag}100"}])
    v2 = register(tenant, UBUNTU, "1.1.0", artifacts=[{**AMI, "image_ref": f"ami-0{tag}110"}])
    channel_promote(actor=engineer, version=v1, environment=envs["prod"], grace_days=0)
    channel_promote(actor=engineer, version=v2, environment=envs["prod"], grace_days=0)
    channel_promote(actor=engineer, version=v2, environment=envs["dev"], grace_days=0)
    connector = connector_create(
        actor=None, organization=org, platform="synthetic", name=f"fleet-{tag}", config={"count": 0}
    )
    run = ScanRun.objects.create(
        organization=org, connector=connector, status="succeeded", started_at=now, finished_at=now, discovered=1
    )
    prod, dev, eu, us = envs["prod"], envs["dev"], sites["aws-eu"], sites["aws-us"]
    plan = (
        [{"env": prod, "site": eu, "version": v1}] * 6
        + [{"env": prod, "site": eu, "version": v2}] * 2
        + [{"env": prod, "site": eu, "version": v1, "state": "stopped"}]
        + [{"env": prod, "site": us, "version": v2}] * 9
        + [{"env": prod, "site": us, "version": v1}]
        + [{"env": dev, "site": eu, "version": v2}] * 4
        + [{"env": dev, "site": eu, "version": None}]
        + [{"env": dev, "site": eu, "version": v2, "connector": connector, "seen": now - datetime.timedelta(days=1)}]
    )
    Asset.objects.bulk_create(_asset(org, tag, n, now=now, **kwargs) for n, kwargs in enumerate(plan))
    return {"envs": envs, "sites": sites, "versions": (v1, v2), "connector": connector, "run": run}


def add_assets(tenant, fleet: dict, count: int, tag: str = "bulk") -> None:
    """``count`` more assets in prod × aws-eu, alternating outdated and compliant."""
    now = timezone.now()
    v1, v2 = fleet["versions"]
    Asset.objects.bulk_create(
        _asset(
            tenant.organization,
            tag,
            n,
            env=fleet["envs"]["prod"],
            site=fleet["sites"]["aws-eu"],
            version=v1 if n % 2 else v2,
            now=now,
        )
        for n in range(count)
    )
