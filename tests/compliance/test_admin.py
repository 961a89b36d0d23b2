"""Admin of the compliance app: tenant-scoped lists, read-only evidence, signing keys through their service."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.compliance.models import SigningKey
from apps.compliance.services import upload_store_and_parse
from tests.compliance.conftest import Signer, fixture_bytes, ubuntu_version

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_only_own_uploads_and_never_edits_them(tenant_a, tenant_b):
    data = fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json")
    mine, _ = upload_store_and_parse(actor=None, version=ubuntu_version(tenant_a), kind="sbom", data=data)
    theirs, _ = upload_store_and_parse(actor=None, version=ubuntu_version(tenant_b), kind="sbom", data=data)
    client = admin_client(tenant_a.users["engineer"])
    response = client.get(reverse("admin:compliance_upload_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [mine]
    assert client.get(reverse("admin:compliance_upload_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse("admin:compliance_upload_add")).status_code == 403
    packages = client.get(reverse("admin:compliance_sbompackage_changelist"))
    assert packages.context["cl"].result_count == 4


def test_admin_adds_a_signing_key_with_its_derived_id_and_refuses_a_bad_pem(tenant_a):
    client = admin_client(tenant_a.users["engineer"])
    signer = Signer()
    url = reverse("admin:compliance_signingkey_add")
    bad = client.post(url, {"organization": tenant_a.organization.pk, "name": "bad", "public_key_pem": "nope"})
    assert bad.status_code == 200 and SigningKey.objects.count() == 0
    added = client.post(
        url, {"organization": tenant_a.organization.pk, "name": "ci", "public_key_pem": signer.public_pem}
    )
    assert added.status_code == 302
    assert list(SigningKey.objects.values_list("name", "key_id")) == [("ci", signer.key_id)]
