"""Badges filter the image catalogue and the asset lists, in the API and the portal; assets inherit their version's."""

import pytest
from django.urls import reverse

from apps.compliance.selectors import version_manifest
from apps.compliance.services import signature_verify, signing_key_create
from apps.inventory.services import scan_run_now
from tests.compliance.conftest import rhel_version
from tests.conftest import client_for
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(tenant_a, signer):
    signed = rhel_version(tenant_a, signer, "9.4.0", artifacts=[{"platform": "aws", "image_ref": "ami-signed"}])
    unsigned = rhel_version(tenant_a, signer, "9.5.0", artifacts=[{"platform": "aws", "image_ref": "ami-unsigned"}])
    signing_key_create(actor=None, organization=tenant_a.organization, name="ci", public_key_pem=signer.public_pem)
    signature_verify(actor=None, version=signed, signature=signer.sign(version_manifest(signed)), key=signer.key_id)
    connector = synthetic(
        tenant_a, count=10, regions={"aws": ["eu-west-1"]}, image_refs={"aws": [["ami-signed", 1], ["ami-unsigned", 1]]}
    )
    scan_run_now(actor=None, connector=connector, trigger="cli")
    return signed, unsigned


def test_api_filters_versions_and_assets_by_badge(tenant_a, two_versions):
    signed, unsigned = two_versions
    client = client_for(tenant_a.users["viewer"])
    passing = client.get(reverse("image-list"), {"badge": "signed:pass"}).json()["results"]
    assert [v["version"] for v in passing] == ["9.4.0"]
    failing = client.get(reverse("image-list"), {"badge": "signed:fail"}).json()["results"]
    assert [v["version"] for v in failing] == ["9.5.0"]
    assets = client.get(reverse("asset-list"), {"badge": "signed:pass", "limit": 100}).json()
    assert assets["count"] > 0 and {a["image_version"] for a in assets["results"]} == {str(signed)}
    others = client.get(reverse("asset-list"), {"badge": "signed:fail", "limit": 100}).json()
    assert assets["count"] + others["count"] == 10
    bad = client.get(reverse("asset-list"), {"badge": "signed:maybe"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "/badge"


def test_portal_catalogue_shows_badges_and_filters_by_them(client, tenant_a, two_versions):
    client.force_login(tenant_a.users["viewer"])
    body = client.get(reverse("images:catalogue")).content.decode()
    assert "badge-pass" in body and "SIGNED" in body
    filtered = client.get(reverse("images:catalogue"), {"badge": "signed:pass"}).content.decode()
    assert ">9.4.0<" in filtered and ">9.5.0<" not in filtered
    assets = client.get(reverse("inventory:asset-list"), {"badge": "signed:pass"})
    assert assets.status_code == 200
    assert client.get(reverse("inventory:asset-list"), {"badge": "nope"}).status_code == 400
