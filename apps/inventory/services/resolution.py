"""How a discovered asset maps onto the organisation: environment (tag rules), site (platform + region), image."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat

from apps.images.models import ImageArtifact, ImageVersion
from apps.images.refs import normalise_image_ref
from apps.tenancy.models import Environment, Site

from ..models import Asset


@dataclass(frozen=True)
class OrgMaps:
    """Lookups loaded once per sync: environment slug → id, (platform, region/site hint) → site id."""

    environments: dict[str, int]
    sites: dict[tuple[str, str], int]
    rules: dict

    @classmethod
    def load(cls, connector) -> OrgMaps:
        environments = dict(Environment.objects.filter(organization=connector.organization).values_list("slug", "id"))
        sites: dict[tuple[str, str], int] = {}
        for site_id, slug, platform, region in Site.objects.filter(organization=connector.organization).values_list(
            "id", "slug", "platform", "region"
        ):
            sites.setdefault((platform, region.lower()), site_id)
            sites.setdefault((platform, slug.lower()), site_id)
        return cls(environments=environments, sites=sites, rules=connector.environment_rules or {})

    def environment_for(self, tags: dict) -> int | None:
        """The environment named by the connector's tag rule (case-insensitive tag key and value), else the default."""
        tag = (self.rules.get("tag") or "Environment").lower()
        value = next((str(v) for k, v in tags.items() if k.lower() == tag), None)
        values = {str(k).lower(): v for k, v in (self.rules.get("values") or {}).items()}
        slug = values.get(value.lower(), value.lower()) if value else self.rules.get("default")
        return self.environments.get(slug) if slug else None

    def site_for(self, platform: str, region: str, site_hint: str) -> int | None:
        for key in (site_hint, region):
            if key and (platform, key.lower()) in self.sites:
                return self.sites[(platform, key.lower())]
        return None


@dataclass(frozen=True)
class ImageResolver:
    """The registry's artifacts as a map loaded once per sync: (platform, ref_key) → (artifact id, version id).

    Regional copies are separate artifacts of the same version; vSphere machines cloned before their template was
    registered carry ``vsphere:<family>@<version>`` and resolve by name. Anything else is unmanaged.
    """

    artifacts: dict[tuple[str, str], tuple[int, int]]
    by_name: dict[str, int]

    @classmethod
    def load(cls, organization) -> ImageResolver:
        artifacts = {
            (platform, ref_key): (pk, version_id)
            for pk, platform, ref_key, version_id in ImageArtifact.objects.filter(
                organization=organization
            ).values_list("id", "platform", "ref_key", "version_id")
        }
        by_name = {
            f"vsphere:{family}@{version}": pk
            for pk, family, version in ImageVersion.objects.filter(organization=organization).values_list(
                "id", "family__slug", "version"
            )
        }
        return cls(artifacts=artifacts, by_name=by_name)

    def resolve(self, platform: str, ref_key: str) -> tuple[int | None, int | None]:
        if (platform, ref_key) in self.artifacts:
            return self.artifacts[(platform, ref_key)]
        if platform == "vsphere" and ref_key in self.by_name:
            return None, self.by_name[ref_key]
        return None, None


def ref_key_for(platform: str, image_ref: str) -> str:
    """The comparison key of an asset's image reference (same rule as the registry's artifacts)."""
    return normalise_image_ref(platform, image_ref) if image_ref else ""


def inventory_resolve_images(*, organization, assets=None) -> int:
    """Re-resolve assets against the registry, set-based (two UPDATEs): after artifacts are registered late.

    Same rules as ``ImageResolver``, in SQL, so registering an artifact never needs a rescan.
    """
    queryset = assets if assets is not None else Asset.objects.filter(organization=organization)
    artifacts = ImageArtifact.objects.filter(
        organization=organization, platform=OuterRef("platform"), ref_key=OuterRef("ref_key")
    )
    changed = queryset.update(
        image_artifact_id=Subquery(artifacts.values("id")[:1]),
        image_version_id=Subquery(artifacts.values("version_id")[:1]),
    )
    by_name = (
        ImageVersion.objects.filter(organization=organization)
        .annotate(named=Concat(Value("vsphere:"), "family__slug", Value("@"), "version", output_field=CharField()))
        .filter(named=OuterRef("ref_key"))
    )
    queryset.filter(Q(platform="vsphere") & Q(ref_key__startswith="vsphere:") & Q(image_artifact__isnull=True)).update(
        image_version_id=Subquery(by_name.values("id")[:1])
    )
    return changed
