"""Portal pages of the image registry: catalogue and version detail, through the one door."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.images.models import ImageArtifact, ImageVersion
from apps.images.services import channel_promote, image_version_revoke
from apps.images.versioning import rank_key
from tests.factories import EnvironmentFactory
from tests.factories.images import register

pytestmark = pytest.mark.django_db

AMI = {"platform": "aws", "account": "111122223333", "region": "eu-west-1"}
GALLERY = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/ubuntu/versions/1.1.0"


@pytest.fixture
def alpha_registry(tenant_a, ubuntu_contract):
    """Two versions of ubuntu-2204-base in alpha (1.1.0 built on 1.0.0), artifacts, a promotion to prod."""
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{**AMI, "image_ref": "ami-0alpha100"}])
    v2 = register(
        tenant_a,
        ubuntu_contract,
        "1.1.0",
        parent="1.0.0",
        artifacts=[
            {**AMI, "image_ref": "ami-0alpha110"},
            {**AMI, "region": "us-east-1", "image_ref": "ami-0alpha110use1"},
            {"platform": "azure", "account": "S", "region": "westeurope", "image_ref": GALLERY},
        ],
    )
    v3 = register(tenant_a, ubuntu_contract, "1.2.0", publish=False, parent="1.1.0")
    prod = EnvironmentFactory(organization=tenant_a.organization, name="Production", slug="prod", tier="prod")
    channel_promote(actor=tenant_a.users["engineer"], version=v1, environment=prod)
    channel_promote(actor=tenant_a.users["engineer"], version=v2, environment=prod)
    return v1, v2, v3


@pytest.fixture
def bravo_version(tenant_b, ubuntu_contract):
    return register(tenant_b, ubuntu_contract, "9.9.9", artifacts=[{**AMI, "image_ref": "ami-0bravo999"}])


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_login_required(client, alpha_registry):
    response = client.get(reverse("images:catalogue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("images:version-detail", args=[alpha_registry[0].pk])).status_code == 302


@pytest.mark.parametrize("role", ["viewer", "operator", "engineer", "admin"])
def test_catalogue_lists_own_versions_with_counts(client, tenant_a, alpha_registry, bravo_version, role):
    response = _get(client, tenant_a.users[role], reverse("images:catalogue"))
    assert response.status_code == 200
    body = response.content.decode()
    families = response.context["families"]
    assert [row.family.slug for row in families] == ["ubuntu-2204-base"]
    versions = families[0].versions
    assert [v.version for v in versions] == ["1.2.0", "1.1.0", "1.0.0"]
    assert [(v.n_aws, v.n_azure, v.n_gcp, v.n_vsphere) for v in versions] == [(0, 0, 0, 0), (2, 1, 0, 0), (1, 0, 0, 0)]
    assert [v.golden_in for v in versions] == [[], ["Production"], []]
    assert "9.9.9" not in body and "bravo" not in body.lower()
    assert '<caption class="visually-hidden">Versions of ubuntu-2204-base</caption>' in body
    assert reverse("images:version-detail", args=[alpha_registry[1].pk]) in body


def test_catalogue_filters_by_status_and_family(client, tenant_a, alpha_registry):
    response = _get(client, tenant_a.users["viewer"], reverse("images:catalogue"), status="draft")
    assert [v.version for row in response.context["families"] for v in row.versions] == ["1.2.0"]
    response = _get(client, tenant_a.users["viewer"], reverse("images:catalogue"), family="no-such-family")
    assert response.context["families"] == []
    assert "No image families match." in response.content.decode()
    response = _get(
        client, tenant_a.users["viewer"], reverse("images:catalogue"), family="ubuntu-2204-base", status="published"
    )
    assert [v.version for row in response.context["families"] for v in row.versions] == ["1.1.0", "1.0.0"]


def test_catalogue_filtering_by_another_tenants_family_shows_nothing(client, tenant_a, bravo_version):
    response = _get(client, tenant_a.users["admin"], reverse("images:catalogue"), family="ubuntu-2204-base")
    assert response.status_code == 200
    assert response.context["families"] == [] and response.context["version_count"] == 0
    assert "9.9.9" not in response.content.decode()


def test_detail_renders_contract_artifacts_history_and_ancestry(client, tenant_a, alpha_registry):
    v1, v2, v3 = alpha_registry
    response = _get(client, tenant_a.users["viewer"], reverse("images:version-detail", args=[v2.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    titles = [section["title"] for section in response.context["sections"]]
    assert titles == [
        "Identity",
        "Base image",
        "Hardening",
        "Packages",
        "Services",
        "Kernel",
        "Patch SLA",
        "Supply chain",
        "Targets",
    ]
    for fragment in (
        '<h3 id="contract-identity">Identity</h3>',
        '<h4 id="cis-exceptions">CIS exceptions</h4>',
        "<dt>CIS</dt>",
        "<dt>SLSA level</dt><dd>3</dd>",
        '<th scope="row">1.1.2.1.1</th>',
        "2027-09-30",
        "<dt>Benchmark</dt><dd>CIS Ubuntu Linux 22.04 LTS Benchmark</dd>",
        "<li>openssh-server</li>",
        "<dt>kernel.randomize_va_space</dt><dd>2</dd>",
        "https://token.actions.githubusercontent.com",
        "rg-golden-images-weu",
        "linux-platform@example.com",
    ):
        assert fragment in body, fragment
    assert '"identity"' not in body and "{&#x27;" not in body  # no raw JSON or Python reprs
    groups = response.context["artifact_groups"]
    assert [(g["platform"], [(r, [a.image_ref for a in arts]) for r, arts in g["regions"]]) for g in groups] == [
        ("AWS", [("eu-west-1", ["ami-0alpha110"]), ("us-east-1", ["ami-0alpha110use1"])]),
        ("Azure", [("westeurope", [GALLERY])]),
    ]
    history = response.context["history"]
    assert [(a.channel.environment.slug, a.from_version, a.to_version) for a in history] == [("prod", v1, v2)]
    assert "alpha-engineer" in body and "Production" in body
    assert [a.pk for a in response.context["ancestors"]] == [v1.pk]
    assert [(n.version.pk, n.children) for n in response.context["children"]] == [(v3.pk, [])]


def test_detail_of_root_shows_descendant_tree_and_revocation(client, tenant_a, alpha_registry):
    v1, v2, v3 = alpha_registry
    image_version_revoke(actor=None, version=v1, reason="CVE-2024-6387")
    response = _get(client, tenant_a.users["viewer"], reverse("images:version-detail", args=[v1.pk]))
    body = response.content.decode()
    tree = response.context["children"]
    assert [(n.version.pk, [c.version.pk for c in n.children]) for n in tree] == [(v2.pk, [v3.pk])]
    assert "CVE-2024-6387" in body and "No parent version" in body
    assert "replaced by" in body
    response = _get(client, tenant_a.users["viewer"], reverse("images:version-detail", args=[v3.pk]))
    assert "inherited from" in response.content.decode()
    assert [a.pk for a in response.context["ancestors"]] == [v2.pk, v1.pk]


def test_cis_exception_close_to_expiry_is_flagged(client, tenant_a, ubuntu_contract):
    soon = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    version = register(tenant_a, ubuntu_contract.replace("expiry: 2027-09-30", f"expiry: {soon}"), "3.0.0")
    response = _get(client, tenant_a.users["viewer"], reverse("images:version-detail", args=[version.pk]))
    rows = response.context["cis_exceptions"]
    assert [(r["control"], r["days_left"], r["state"]) for r in rows][0] == ("1.1.2.1.1", 30, "soon")
    assert f'{soon} <span class="muted warn">(30 days left)</span>' in response.content.decode()


def test_windows_contract_sections(client, tenant_a, windows_contract):
    version = register(tenant_a, windows_contract, "2026.10.13")
    response = _get(client, tenant_a.users["viewer"], reverse("images:version-detail", args=[version.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for title in ("Microsoft Defender", "LAPS", "Credential Guard", "Windows features", "Updates"):
        assert f">{title}</h3>" in body
    assert '<th scope="row">2.3.11.4</th>' in body


def test_detail_of_another_tenant_is_404(client, tenant_a, alpha_registry, bravo_version):
    response = _get(client, tenant_a.users["admin"], reverse("images:version-detail", args=[bravo_version.pk]))
    assert response.status_code == 404
    assert "9.9.9" not in response.content.decode()
    assert client.get(reverse("images:version-detail", args=[alpha_registry[0].pk])).status_code == 200
    assert client.get(reverse("images:version-detail", args=[999999])).status_code == 404


def test_catalogue_query_count_is_bounded(client, tenant_a, ubuntu_contract, django_assert_max_num_queries):
    first = register(tenant_a, ubuntu_contract, "1.0.0")
    copies = [
        ImageVersion(
            organization=tenant_a.organization,
            family=first.family,
            version=f"1.{n}.0",
            version_key=rank_key(n),  # 1.0.0 is rank 0
            status=first.status,
            contract=first.contract,
            contract_digest=first.contract_digest,
            parent=first,
        )
        for n in range(1, 50)
    ]
    ImageVersion.objects.bulk_create(copies)
    ImageArtifact.objects.bulk_create(
        ImageArtifact(
            organization=tenant_a.organization,
            version=version,
            platform=platform,
            image_ref=f"{platform}-{version.version}",
            ref_key=f"{platform}-{version.version}",
        )
        for version in ImageVersion.objects.filter(organization=tenant_a.organization)
        for platform in ("aws", "gcp")
    )
    client.force_login(tenant_a.users["viewer"])
    client.get(reverse("images:catalogue"))  # the first request also writes the session
    # 8 for the catalogue itself + 5 for every version's badges (evidence and manifests, set-based): constant in N
    with django_assert_max_num_queries(15):
        response = client.get(reverse("images:catalogue"))
    assert response.status_code == 200
    assert response.context["version_count"] == 50
    assert all((v.n_aws, v.n_gcp) == (1, 1) for v in response.context["families"][0].versions)
