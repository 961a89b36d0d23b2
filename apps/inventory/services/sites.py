"""Sites from what scans discover: each platform region or datacenter a connector reports gets a Site (ADR 025).

A site is created once, named after its region ("AWS eu-west-1", "vSphere DC-Paris") and then belongs to the user:
a rename (name or slug) is kept, because sites are matched on (platform, region), never on their name.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from apps.tenancy.choices import SiteKindChoices
from apps.tenancy.models import Site
from apps.tenancy.services import audit_record, snapshot

from ..models import Asset, DiscoveredImage

LABELS = {"aws": "AWS", "azure": "Azure", "gcp": "GCP", "vsphere": "vSphere"}


def _free_slug(taken: set[str], platform: str, region: str) -> str:
    base = slugify(f"{platform}-{region}")[:90] or platform
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


@transaction.atomic
def sites_from_scan(*, connector) -> int:
    """Create the sites of the regions/datacenters ``connector`` reported that have none; attach its site-less assets.

    Set-based: one query for the reported regions, one INSERT for the new sites, one UPDATE per site for its assets.
    """
    organization = connector.organization
    if connector.platform not in LABELS:
        return 0  # synthetic fleets (demo, benchmarks) keep the sites their scenario declares
    reported = set(
        Asset.objects.filter(connector=connector, removed_at__isnull=True)
        .exclude(region="")
        .values_list("platform", "region")
        .distinct()
    ) | set(
        DiscoveredImage.objects.filter(connector=connector, removed_at__isnull=True)
        .exclude(region="")
        .values_list("platform", "region")
        .distinct()
    )
    existing = Site.objects.filter(organization=organization)
    known = {(p, r.lower()) for p, r in existing.values_list("platform", "region")}
    known |= {(p, s.lower()) for p, s in existing.values_list("platform", "slug")}
    taken = set(existing.values_list("slug", flat=True))
    created = []
    for platform, region in sorted(reported):
        if (platform, region.lower()) in known:
            continue
        known.add((platform, region.lower()))
        created.append(
            Site(
                organization=organization,
                name=f"{LABELS[platform]} {region}"[:100],
                slug=_free_slug(taken, platform, region),
                kind=SiteKindChoices.DATACENTER if platform == "vsphere" else SiteKindChoices.CLOUD_REGION,
                platform=platform,
                region=region[:100],
            )
        )
    for site in Site.objects.bulk_create(created):
        if site.pk is None:  # backends that do not return pks from bulk inserts
            site = Site.objects.get(organization=organization, slug=site.slug)
        audit_record(
            organization=organization, actor=None, action="tenancy.site.discover", obj=site, after=snapshot(site)
        )
    _attach(connector)
    return len(created)


def _attach(connector) -> None:
    """Give the connector's site-less assets the site of their (platform, region)."""
    orphans = Asset.objects.filter(connector=connector, site__isnull=True).exclude(region="")
    regions = set(orphans.values_list("platform", "region").distinct())
    if not regions:
        return
    sites = {}
    for site_id, platform, region in Site.objects.filter(organization=connector.organization).values_list(
        "id", "platform", "region"
    ):
        sites.setdefault((platform, region.lower()), site_id)
    for platform, region in regions:
        site_id = sites.get((platform, region.lower()))
        if site_id is not None:
            orphans.filter(platform=platform, region=region).update(site_id=site_id)
