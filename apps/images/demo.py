"""Demo image registry for Acme: four families from the example contracts, versions with ancestry, artifacts on
every targeted platform, channels per environment (prod one version behind) and one revoked version.

Everything is written through the image services. ``DEMO_ARTIFACTS`` is the artifact table, kept at module level so
the inventory demo can place machines on these images.

The registry has a past: each version was released ``released_days_ago`` days before the load, each environment
took it ``PROMOTION_LAG_DAYS`` later (grace periods counted from then), and the revocation took effect
``REVOKED_DAYS_AGO`` days ago, so drift ages run from days to months. Promotions are recorded at their past dates
through ``channel_promote(promoted_at=…)``; release times are moved into the past after registration (``_backdate``):
demo data only, the audit trail keeps the load time.
Contracts naming a cosign key get the demo key (``apps.compliance.demo``) instead of the example's placeholder id.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from apps.tenancy.models import Environment

from .models import ImageArtifact, ImageFamily, ImageVersion
from .services import (
    channel_promote,
    image_version_deprecate,
    image_version_publish,
    image_version_register,
    image_version_revoke,
)

EXAMPLES = Path(settings.BASE_DIR) / "contracts" / "examples"
AWS_ACCOUNT = "111122223333"
AZURE_SUBSCRIPTION = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"
AZURE_GALLERY = (
    f"/subscriptions/{AZURE_SUBSCRIPTION}/resourceGroups/rg-golden-images-weu"
    "/providers/Microsoft.Compute/galleries/gal_golden_prod"
)
GCP_PROJECT = "acme-golden-images"
VCENTERS = {"DC1": "vcsa01.dc1.example.com", "DC2": "vcsa01.dc2.example.com"}
GRACE_DAYS = {"dev": 3, "staging": 7, "prod": 14}
REVOKED = ("ubuntu-2204-base", "1.0.0")
REVOCATION_REASON = (
    "CVE-2024-6387 (regreSSHion): openssh-server 1:8.9p1-3ubuntu0.7 allows unauthenticated remote code execution; "
    "rebuild on 1.1.0 or later."
)
REVOKED_DAYS_AGO = 45
DEPRECATED = [("ubuntu-2204-base", "1.1.0")]
PROMOTION_LAG_DAYS = {"dev": 1, "staging": 4, "prod": 11}  # days from release to promotion, per environment

K8S_BASE = """base:
  source: golden
  image: ubuntu-2204-base
  publisher: Linux Platform Team
  parent:
    family: ubuntu-2204-base
    version: "{parent}"
"""
K8S_VSPHERE = """  vsphere:
    - vcenter: vcsa01.dc1.example.com
      datacenter: DC1
      content_library: golden-images
      folder: /DC1/vm/Templates/Linux
"""


@dataclass(frozen=True)
class DemoFamily:
    """One family of the demo: its contract source, versions (with parents) and where artifacts are published."""

    slug: str
    example: str
    versions: tuple[tuple[str, str | None], ...]  # (version, parent "family@version" or None)
    placements: tuple[tuple[str, str], ...]  # (platform, region)
    released_days_ago: tuple[int, ...]  # per version, oldest first; a draft's entry is when it was built
    drafts: tuple[str, ...] = ()


FAMILIES = (
    DemoFamily(
        "ubuntu-2204-base",
        "ubuntu-22.04.contract.yaml",
        (("1.0.0", None), ("1.1.0", None), ("1.2.0", None), ("1.3.0", None)),
        (("aws", "eu-west-1"), ("aws", "us-east-1"), ("azure", "westeurope"), ("gcp", "global")),
        (172, 121, 66, 19),
    ),
    DemoFamily(
        "ubuntu-2204-k8s-node",
        "ubuntu-22.04.contract.yaml",
        (("2.0.0", "ubuntu-2204-base@1.0.0"), ("2.1.0", "ubuntu-2204-base@1.2.0"), ("2.2.0", "ubuntu-2204-base@1.3.0")),
        (("aws", "eu-west-1"), ("aws", "us-east-1"), ("azure", "westeurope"), ("gcp", "global"), ("vsphere", "DC1")),
        (168, 61, 16),
    ),
    DemoFamily(
        "rhel-9-appserver",
        "rhel-9.contract.yaml",
        (("2026.08.1", None), ("2026.09.1", None), ("2026.10.1", None), ("2026.11.1", None)),
        (("aws", "us-east-1"), ("aws", "us-west-2"), ("vsphere", "DC1"), ("vsphere", "DC2")),
        (126, 96, 63, 5),
        drafts=("2026.11.1",),
    ),
    DemoFamily(
        "windows-2022-core",
        "windows-server-2022.contract.yaml",
        (("2026.08.11", None), ("2026.09.08", None), ("2026.10.13", None), ("2026.11.10", None)),
        (("azure", "westeurope"), ("vsphere", "DC1")),
        (115, 87, 52, 23),
    ),
)


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _gallery_version(version: str) -> str:
    """Azure gallery image versions are ``int.int.int``: ``2026.08.11`` is published as ``2026.8.11``."""
    return ".".join(str(int(part)) for part in version.split("."))


def _artifact(family: str, version: str, platform: str, region: str) -> dict:
    """A real-looking, deterministic artifact of ``family@version`` on one platform and region."""
    seed = _digest(family, version, platform, region)
    if platform == "aws":
        account, ref = AWS_ACCOUNT, f"ami-{seed[:17]}"
    elif platform == "azure":
        account = AZURE_SUBSCRIPTION
        ref = f"{AZURE_GALLERY}/images/{family}/versions/{_gallery_version(version)}"
    elif platform == "gcp":
        name = f"{family}-v{version.replace('.', '-')}"
        account, ref = GCP_PROJECT, f"https://www.googleapis.com/compute/v1/projects/{GCP_PROJECT}/global/images/{name}"
    else:
        account, ref = VCENTERS[region], str(uuid.UUID(hex="50" + seed[2:32]))
    return {
        "family": family,
        "version": version,
        "platform": platform,
        "account": account,
        "region": region,
        "image_ref": ref,
    }


DEMO_ARTIFACTS: list[dict] = [
    _artifact(family.slug, version, platform, region)
    for family in FAMILIES
    for version, _ in family.versions
    for platform, region in family.placements
]


KEYLESS_UBUNTU = """    method: keyless
    keyless:
      - issuer: https://token.actions.githubusercontent.com
        identity: https://github.com/example-org/golden-images/.github/workflows/ubuntu.yml@refs/heads/main
"""
EXAMPLE_KEY_ID = "sha256:5f0d8b3c2a1e4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
SBOM_FORMATS = {"ubuntu-2204-base": "cyclonedx", "ubuntu-2204-k8s-node": "cyclonedx", "rhel-9-appserver": "spdx"}


def contract_text(family: DemoFamily, parent: str | None, key_id: str | None = None) -> str:
    """The contract YAML of a demo version: the example itself, or a variant derived from it by text edits.

    With ``key_id`` (the demo cosign key), RHEL lists it among its cosign keys and the Kubernetes node is signed with
    it (method key); SBOM formats follow the demo's SBOM files (``SBOM_FORMATS``).
    """
    text = (EXAMPLES / family.example).read_text()
    if family.slug in SBOM_FORMATS:
        text = _sbom_format(text, SBOM_FORMATS[family.slug])
    if key_id and family.slug == "rhel-9-appserver":
        text = text.replace(f"      - {EXAMPLE_KEY_ID}\n", f"      - {EXAMPLE_KEY_ID}\n      - sha256:{key_id}\n")
    if family.slug != "ubuntu-2204-k8s-node":
        return text
    text = text.replace("ubuntu-2204-base", family.slug)
    text = text.replace(
        "  description: Hardened Ubuntu 22.04 LTS base for all Linux workloads.",
        "  description: Kubernetes worker node (containerd, kubelet) built on the ubuntu-2204-base golden image.",
    )
    vendor_base = text[text.index("base:\n") : text.index("hardening:\n")]
    text = text.replace(vendor_base, K8S_BASE.format(parent=parent.rpartition("@")[2]))
    text = text.replace("    - aide\n  forbidden:", "    - aide\n    - containerd\n    - kubelet\n  forbidden:")
    text = text.replace("    net.ipv4.ip_forward: 0", "    net.ipv4.ip_forward: 1")
    if key_id:
        text = text.replace(KEYLESS_UBUNTU, f"    method: key\n    cosign_key_ids:\n      - sha256:{key_id}\n")
    return text.rstrip("\n") + "\n" + K8S_VSPHERE


def _sbom_format(text: str, fmt: str) -> str:
    head, _, tail = text.partition("  sbom:\n    required: true\n    format: ")
    return f"{head}  sbom:\n    required: true\n    format: {fmt}{tail[tail.index(chr(10)) :]}" if tail else text


def _register(organization, family: DemoFamily, key_id: str | None) -> list[ImageVersion]:
    versions = []
    for version, parent in family.versions:
        artifacts = [
            {key: row[key] for key in ("platform", "account", "region", "image_ref")}
            for row in DEMO_ARTIFACTS
            if (row["family"], row["version"]) == (family.slug, version)
        ]
        registered, _ = image_version_register(
            actor=None,
            organization=organization,
            contract=contract_text(family, parent, key_id),
            version=version,
            parent=parent,
            artifacts=artifacts,
        )
        if version not in family.drafts:
            registered = image_version_publish(actor=None, version=registered)
        versions.append(registered)
    return versions


def _promote(published: list[ImageVersion], environments: dict) -> None:
    """dev and staging end on the newest version, prod one behind; each step ``PROMOTION_LAG_DAYS`` after release."""
    now = timezone.now()
    for slug, environment in environments.items():
        steps = published if slug != "prod" else published[:-1]
        for version in steps:
            at = version.released_at + datetime.timedelta(days=PROMOTION_LAG_DAYS[slug])
            channel_promote(
                actor=None,
                version=version,
                environment=environment,
                grace_days=GRACE_DAYS[slug],
                promoted_at=min(at, now),
            )


def summary(organization) -> str:
    families = ImageFamily.objects.filter(organization=organization).count()
    versions = ImageVersion.objects.filter(organization=organization).count()
    artifacts = ImageArtifact.objects.filter(organization=organization).count()
    return f"Image registry: {families} families, {versions} versions, {artifacts} artifacts"


def load(context: dict) -> list[str]:
    """Register the demo image registry of the demo organisation once (skipped when it already has families)."""
    organization = context["organization"]
    if ImageFamily.objects.filter(organization=organization).exists():
        return [summary(organization)]
    environments = {
        env.slug: env for env in Environment.objects.filter(organization=organization, slug__in=list(GRACE_DAYS))
    }
    environments = {slug: environments[slug] for slug in GRACE_DAYS if slug in environments}
    now = timezone.now()
    for family in FAMILIES:
        versions = _register(organization, family, context.get("demo_key_id"))
        _backdate(family, versions, now)
        _promote([v for v in versions if v.version not in family.drafts], environments)
    for family_slug, version in DEPRECATED:
        image_version_deprecate(actor=None, version=_version(organization, family_slug, version))
    image_version_revoke(
        actor=None,
        version=_version(organization, *REVOKED),
        reason=REVOCATION_REASON,
        effective_at=now - datetime.timedelta(days=REVOKED_DAYS_AGO),
    )
    context["demo_registry_created"] = True
    return [summary(organization)]


def _backdate(family: DemoFamily, versions: list[ImageVersion], now: datetime.datetime) -> None:
    """Move the family's build and release times into the past (see the module docstring)."""
    for version, days_ago in zip(versions, family.released_days_ago, strict=True):
        built = now - datetime.timedelta(days=days_ago)
        released = None if version.version in family.drafts else built
        ImageVersion.objects.filter(pk=version.pk).update(created_at=built, released_at=released)
        version.created_at, version.released_at = built, released


def _version(organization, family: str, version: str) -> ImageVersion:
    return ImageVersion.objects.get(organization=organization, family__slug=family, version=version)
