"""The image registry demo: loaded through the services, exact contents, idempotent, artifacts table reusable."""

import pytest

from apps.images.demo import DEMO_ARTIFACTS, FAMILIES, contract_text
from apps.images.models import Channel, ChannelAssignment, ImageArtifact, ImageFamily, ImageVersion
from apps.images.refs import normalise_image_ref
from apps.images.services import contract_check
from apps.tenancy.models import AuditEvent, Organization
from qlrf.demo import DEMO_LOADERS, demo_load

pytestmark = pytest.mark.django_db


def _state(org):
    return (
        ImageFamily.objects.filter(organization=org).count(),
        ImageVersion.objects.filter(organization=org).count(),
        ImageArtifact.objects.filter(organization=org).count(),
        Channel.objects.filter(organization=org).count(),
        ChannelAssignment.objects.filter(organization=org).count(),
        AuditEvent.objects.filter(organization=org).count(),
    )


def test_loader_runs_after_tenancy_and_the_demo_signing_key():
    # the contracts list the demo cosign key, so it must exist before the registry
    order = [DEMO_LOADERS.index(name) for name in ("apps.tenancy.demo.load", "apps.compliance.demo.load_keys")]
    assert max(order) < DEMO_LOADERS.index("apps.images.demo.load") < DEMO_LOADERS.index("apps.compliance.demo.load")


def test_every_demo_contract_validates():
    kinds = set()
    for family in FAMILIES:
        for version, parent in family.versions:
            checked = contract_check(contract_text(family, parent))
            assert checked.document["identity"]["family"] == family.slug
            targeted = set(checked.document["targets"])
            assert {platform for platform, _ in family.placements} <= targeted, (family.slug, targeted)
            kinds.add(checked.kind)
    assert len(kinds) == 2  # Linux and Windows contracts


def test_demo_artifacts_table_is_deterministic_and_realistic():
    assert len(DEMO_ARTIFACTS) == 55
    assert len({(a["platform"], normalise_image_ref(a["platform"], a["image_ref"])) for a in DEMO_ARTIFACTS}) == 55
    by_platform = {}
    for artifact in DEMO_ARTIFACTS:
        by_platform.setdefault(artifact["platform"], []).append(artifact)
    assert {p: len(rows) for p, rows in by_platform.items()} == {"aws": 22, "azure": 11, "gcp": 7, "vsphere": 15}
    assert all(a["image_ref"].startswith("ami-") and len(a["image_ref"]) == 21 for a in by_platform["aws"])
    assert {a["region"] for a in by_platform["aws"]} == {"eu-west-1", "us-east-1", "us-west-2"}
    assert all(
        "/providers/Microsoft.Compute/galleries/gal_golden_prod/images/" in a["image_ref"] for a in by_platform["azure"]
    )
    assert all(
        a["image_ref"].startswith("https://www.googleapis.com/compute/v1/projects/acme-golden-images/global/images/")
        for a in by_platform["gcp"]
    )
    windows = [a for a in by_platform["azure"] if a["family"] == "windows-2022-core"]
    assert windows[0]["image_ref"].endswith("/images/windows-2022-core/versions/2026.8.11")


def test_demo_loads_through_the_services_and_is_idempotent():
    lines = demo_load()
    assert "Image registry: 4 families, 15 versions, 55 artifacts" in lines
    acme = Organization.objects.get(slug="acme")
    state = _state(acme)
    assert state[:5] == (4, 15, 56, 12, 38)  # the 56th: a regional copy added after signing (compliance demo)
    assert "Image registry: 4 families, 15 versions, 56 artifacts" in demo_load()
    assert _state(acme) == state
    globex = Organization.objects.get(slug="globex")
    assert ImageVersion.objects.filter(organization=globex).count() == 0


def test_demo_contents():
    demo_load()
    acme = Organization.objects.get(slug="acme")
    versions = ImageVersion.objects.filter(organization=acme).select_related("family", "parent__family")
    statuses = {}
    for version in versions:
        statuses[version.status] = statuses.get(version.status, 0) + 1
    assert statuses == {"published": 11, "deprecated": 1, "draft": 1, "revoked": 2}
    revoked = versions.get(family__slug="ubuntu-2204-base", version="1.0.0")
    assert revoked.revocation_reason.startswith("CVE-2024-6387")
    inherited = versions.get(family__slug="ubuntu-2204-k8s-node", version="2.0.0")
    assert (inherited.status, inherited.revoked_via) == ("revoked", revoked)
    parents = {f"{v.family.slug}@{v.version}": str(v.parent) for v in versions if v.parent_id}
    assert parents == {
        "ubuntu-2204-k8s-node@2.0.0": "ubuntu-2204-base@1.0.0",
        "ubuntu-2204-k8s-node@2.1.0": "ubuntu-2204-base@1.2.0",
        "ubuntu-2204-k8s-node@2.2.0": "ubuntu-2204-base@1.3.0",
    }
    golden = {
        (c.family.slug, c.environment.slug): c.version.version
        for c in Channel.objects.filter(organization=acme).select_related("family", "environment", "version")
    }
    assert golden == {
        ("ubuntu-2204-base", "dev"): "1.3.0",
        ("ubuntu-2204-base", "staging"): "1.3.0",
        ("ubuntu-2204-base", "prod"): "1.2.0",
        ("ubuntu-2204-k8s-node", "dev"): "2.2.0",
        ("ubuntu-2204-k8s-node", "staging"): "2.2.0",
        ("ubuntu-2204-k8s-node", "prod"): "2.1.0",
        ("rhel-9-appserver", "dev"): "2026.10.1",
        ("rhel-9-appserver", "staging"): "2026.10.1",
        ("rhel-9-appserver", "prod"): "2026.09.1",
        ("windows-2022-core", "dev"): "2026.11.10",
        ("windows-2022-core", "staging"): "2026.11.10",
        ("windows-2022-core", "prod"): "2026.10.13",
    }
    stored = {
        (a.version.family.slug, a.version.version, a.platform, a.account, a.region, a.image_ref)
        for a in ImageArtifact.objects.filter(organization=acme).select_related("version__family")
    }
    copied = stored - {tuple(row.values()) for row in DEMO_ARTIFACTS}
    assert len(copied) == 1 and next(iter(copied))[:5] == (
        "ubuntu-2204-k8s-node",
        "2.1.0",
        "aws",
        "111122223333",
        "eu-central-1",
    )
    platforms = set(
        ImageArtifact.objects.filter(organization=acme, version__family__slug="ubuntu-2204-k8s-node").values_list(
            "platform", flat=True
        )
    )
    assert platforms == {"aws", "azure", "gcp", "vsphere"}
    assert AuditEvent.objects.filter(organization=acme, action="images.imageversion.revoke").count() == 2
    assert AuditEvent.objects.filter(organization=acme, action="images.imageartifact.add").count() == 56
