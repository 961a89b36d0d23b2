"""Compliance API: the isolation suite per router endpoint, uploads, SBOM download and diff, search, signatures."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance.models import GateDecision, SbomPackage, SignatureVerification, SigningKey, Upload, UploadJob
from apps.compliance.selectors import version_manifest
from apps.compliance.services import (
    gate_check,
    signature_verify,
    signing_key_create,
    upload_job_submit,
    upload_store_and_parse,
)
from apps.tenancy.services import token_create
from tests.api_base import TenantAPITests
from tests.compliance.conftest import Signer, fixture_bytes, rhel_version, ubuntu_version
from tests.conftest import client_for
from tests.factories import EnvironmentFactory

_seq = itertools.count(1)
EXAMPLE11 = "sbom/spdx/spdx-examples-example11.spdx.json"


class TestSigningKeyAPI(TenantAPITests):
    basename = "signing-key"
    model = SigningKey
    update_payload = {"name": "renamed"}

    def make(self, tenant):
        return signing_key_create(
            actor=None, organization=tenant.organization, name=f"k{next(_seq)}", public_key_pem=Signer().public_pem
        )

    def create_payload(self, tenant):
        return {
            "organization": tenant.organization.slug,
            "name": f"n{next(_seq)}",
            "public_key_pem": Signer().public_pem,
        }


class TestUploadAPI(TenantAPITests):
    basename = "upload"
    model = Upload
    writable = False
    deletable = False

    def make(self, tenant):
        version = ubuntu_version(tenant, f"0.{next(_seq)}.0")
        return upload_store_and_parse(actor=None, version=version, kind="sbom", data=fixture_bytes(EXAMPLE11))[0]


class TestUploadJobAPI(TenantAPITests):
    basename = "upload-job"
    model = UploadJob
    writable = False
    deletable = False

    def make(self, tenant):
        version = ubuntu_version(tenant, f"0.{next(_seq)}.0")
        return upload_job_submit(
            actor=tenant.users["engineer"], version=version, kind="sbom", data=fixture_bytes(EXAMPLE11)
        )


class TestSignatureVerificationAPI(TenantAPITests):
    basename = "signature-verification"
    model = SignatureVerification
    writable = False
    deletable = False

    def make(self, tenant):
        version = ubuntu_version(tenant, f"0.{next(_seq)}.0")
        return signature_verify(actor=None, version=version, signature="c2ln")


class TestGateDecisionAPI(TenantAPITests):
    basename = "gate-decision"
    model = GateDecision
    writable = False
    deletable = False

    def make(self, tenant):
        version = ubuntu_version(tenant, f"0.{next(_seq)}.0")
        environment = EnvironmentFactory(organization=tenant.organization)
        return gate_check(actor=None, version=version, environment=environment)


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def ci(tenant_a) -> APIClient:
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    return bearer(raw)


@pytest.mark.django_db
def test_sbom_upload_raw_and_multipart_then_metadata_and_download(tenant_a, ci):
    version = ubuntu_version(tenant_a)
    url = reverse("image-sbom", args=[version.pk])
    assert ci.get(url).status_code == 404  # no SBOM yet
    data = fixture_bytes(EXAMPLE11)
    created = ci.post(url, data, content_type="application/spdx+json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["format"], body["spec_version"], body["package_count"]) == ("spdx", "2.3", 4)
    assert (body["upload"]["sha256"], body["upload"]["status"]) == (hashlib.sha256(data).hexdigest(), "accepted")
    assert ci.post(url, data, content_type="application/json").status_code == 200  # the same bytes: no-op
    xml = fixture_bytes("sbom/cyclonedx/valid-bom-1.5.xml")
    from django.core.files.uploadedfile import SimpleUploadedFile

    multipart = ci.post(url, {"file": SimpleUploadedFile("bom.xml", xml, "application/xml")}, format="multipart")
    assert multipart.status_code == 201, multipart.content
    assert (multipart.json()["format"], multipart.json()["upload"]["filename"]) == ("cyclonedx", "bom.xml")
    latest = ci.get(url).json()
    assert (latest["format"], latest["package_count"], latest["upload"]["media_type"]) == (
        "cyclonedx",
        3,
        "application/vnd.cyclonedx+xml",
    )
    download = ci.get(url, {"download": "1"})
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == xml
    assert download["Content-Disposition"] == 'attachment; filename="bom.xml"'


@pytest.mark.django_db(transaction=True)
def test_rejected_sbom_via_api_is_422_and_its_upload_row_survives(tenant_a, ci):
    version = ubuntu_version(tenant_a)
    response = ci.post(
        reverse("image-sbom", args=[version.pk]),
        fixture_bytes("sbom/cyclonedx/invalid-bomformat-1.6.json"),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_document",
        "detail": '"AnotherFormat" is not one of "CycloneDX"',
        "errors": [
            {"path": "/bomFormat", "code": "invalid_document", "detail": '"AnotherFormat" is not one of "CycloneDX"'}
        ],
    }
    assert list(Upload.objects.values_list("status", "rejection_code")) == [("rejected", "invalid_document")]
    assert SbomPackage.objects.count() == 0
    listed = ci.get(reverse("upload-list"), {"status": "rejected"}).json()["results"]
    assert [(row["kind"], row["rejection_path"]) for row in listed] == [("sbom", "/bomFormat")]


@pytest.mark.django_db
def test_oversized_upload_is_413(tenant_a, ci, settings):
    settings.QLRF_UPLOAD_MAX_BYTES = 2048
    version = ubuntu_version(tenant_a)
    data = fixture_bytes("sbom/spdx/SPDXJSONExample-v2.3.spdx.json")
    response = ci.post(reverse("image-sbom", args=[version.pk]), data, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["detail"] == f"document is {len(data)} bytes; the limit is 2048"
    upload = Upload.objects.get()
    assert (upload.status, upload.size, upload.sha256, SbomPackage.objects.count()) == ("rejected", len(data), "", 0)


@pytest.mark.django_db
def test_uploads_to_another_tenants_version_are_404_and_viewers_are_403(tenant_a, tenant_b, ci):
    theirs = ubuntu_version(tenant_b)
    data = fixture_bytes(EXAMPLE11)
    assert ci.post(reverse("image-sbom", args=[theirs.pk]), data, content_type="application/json").status_code == 404
    assert ci.get(reverse("image-sbom", args=[theirs.pk])).status_code == 404
    mine = ubuntu_version(tenant_a)
    viewer = client_for(tenant_a.users["viewer"])
    assert viewer.post(reverse("image-sbom", args=[mine.pk]), data, content_type="application/json").status_code == 403
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_scan_upload_detects_sarif_and_inspec(tenant_a, ci):
    version = ubuntu_version(tenant_a)
    url = reverse("image-scans", args=[version.pk])
    sarif = ci.post(url, fixture_bytes("sarif/trivy-alpine-310.sarif"), content_type="application/sarif+json")
    assert sarif.status_code == 201
    assert (sarif.json()["kind"], sarif.json()["tool"], sarif.json()["counts"]["warning"]) == ("sarif", "Trivy", 4)
    report = ci.post(url, fixture_bytes("inspec/aws-s3-baseline.json"), content_type="application/json")
    assert (report.status_code, report.json()["kind"], report.json()["counts"]["failed"]) == (201, "inspec", 2)
    refused = ci.post(url, b'{"hello": "world"}', content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (422, "unsupported_format")


@pytest.mark.django_db
def test_sbom_diff_is_exact(tenant_a, ci):
    old, new = ubuntu_version(tenant_a, "1.0.0"), ubuntu_version(tenant_a, "1.1.0")
    data = fixture_bytes(EXAMPLE11)
    modified = (
        data.replace(b"pkg:cargo/tokio@1.19.2", b"pkg:cargo/tokio@1.20.0")
        .replace(b'"versionInfo": "1.19.2"', b'"versionInfo": "1.20.0"')
        .replace(b"pkg:cargo/hyper@0.14", b"pkg:cargo/axum@0.7")
        .replace(b'"name": "hyper"', b'"name": "axum"')
        .replace(b'"versionInfo": "0.14"', b'"versionInfo": "0.7"')
    )
    upload_store_and_parse(actor=None, version=old, kind="sbom", data=data)
    upload_store_and_parse(actor=None, version=new, kind="sbom", data=modified)
    response = ci.get(reverse("image-sbom-diff", args=[new.pk]), {"against": old.pk})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "base": "ubuntu-2204-base@1.0.0",
        "against": "ubuntu-2204-base@1.1.0",
        "added": [{"key": "pkg:cargo/axum", "name": "axum", "before": [], "after": ["0.7"]}],
        "removed": [{"key": "pkg:cargo/hyper", "name": "hyper", "before": ["0.14"], "after": []}],
        "changed": [{"key": "pkg:cargo/tokio", "name": "tokio", "before": ["1.19.2"], "after": ["1.20.0"]}],
    }
    assert ci.get(reverse("image-sbom-diff", args=[new.pk])).status_code == 400


@pytest.mark.django_db
def test_package_search_across_versions_never_shows_another_tenant(tenant_a, tenant_b, ci):
    ubi = fixture_bytes("sbom/spdx/ubi9-9.2-755.1697625012.spdx.json")
    first, second = ubuntu_version(tenant_a, "1.0.0"), ubuntu_version(tenant_a, "2.0.0")
    upload_store_and_parse(actor=None, version=first, kind="sbom", data=ubi)
    upload_store_and_parse(
        actor=None,
        version=second,
        kind="sbom",
        data=ubi.replace(b'"versionInfo": "5.1.8-6.el9_1"', b'"versionInfo": "5.2.15-1.el9"'),
    )
    upload_store_and_parse(actor=None, version=ubuntu_version(tenant_b), kind="sbom", data=ubi)
    response = ci.get(reverse("package-search"), {"name": "bash", "version": "5.1.8-6.el9_1", "limit": 100})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {(r["image"], r["version"], r["organization"]) for r in rows} == {
        ("ubuntu-2204-base@1.0.0", "5.1.8-6.el9_1", "alpha")
    }
    assert sorted(r["purl"].rsplit("=", 1)[1] for r in rows) == ["aarch64", "ppc64le", "s390x", "x86_64"]
    any_version = ci.get(reverse("package-search"), {"name": "bash", "limit": 100}).json()["results"]
    assert {(r["image"], r["version"]) for r in any_version} == {
        ("ubuntu-2204-base@1.0.0", "5.1.8-6.el9_1"),
        ("ubuntu-2204-base@2.0.0", "5.2.15-1.el9"),
    }
    assert ci.get(reverse("package-search")).json()["code"] == "required"


@pytest.mark.django_db
def test_signature_endpoint_verifies_a_cosign_signature_and_logs_a_failure(tenant_a, ci, signer):
    version = rhel_version(tenant_a, signer)
    created = ci.post(reverse("signing-key-list"), {"name": "ci", "public_key_pem": signer.public_pem}, format="json")
    assert (created.status_code, created.json()["key_id"]) == (201, signer.key_id)
    manifest = ci.get(reverse("image-manifest", args=[version.pk])).content
    assert manifest == version_manifest(version)
    url = reverse("image-signatures", args=[version.pk])
    ok = ci.post(url, {"signature": signer.sign(manifest), "key": signer.key_id, "environment": "prod"}, format="json")
    assert ok.status_code == 400 and ok.json()["errors"][0]["path"] == "/environment"  # no such environment yet
    ok = ci.post(url, {"signature": signer.sign(manifest), "key": signer.key_id}, format="json")
    assert (ok.status_code, ok.json()["result"], ok.json()["key_id"]) == (201, "verified", signer.key_id)
    bad = ci.post(url, {"signature": signer.sign(manifest + b" "), "key": "ci"}, format="json")
    assert (bad.status_code, bad.json()["result"], bad.json()["code"]) == (201, "failed", "invalid_signature")
    bundle = json.loads(fixture_bytes("sigstore/conformance/managed-key-happy-path.sigstore.json"))
    hinted = ci.post(url, {"bundle": bundle, "key": "ci"}, format="json")
    assert (hinted.json()["result"], hinted.json()["code"]) == ("failed", "key_mismatch")
    assert list(SignatureVerification.objects.order_by("id").values_list("result", flat=True)) == [
        "verified",
        "failed",
        "failed",
    ]
    missing = ci.post(url, {}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "missing_signature")


@pytest.mark.django_db
def test_gate_check_api_refuses_unknown_image_and_environment(tenant_a, tenant_b, ci):
    ubuntu_version(tenant_b)
    EnvironmentFactory(organization=tenant_b.organization, slug="prod")
    response = ci.post(reverse("gate-check"), {"image": "ubuntu-2204-base@1.0.0", "environment": "prod"}, format="json")
    assert (response.status_code, response.json()["errors"][0]["path"]) == (400, "/image")
    ubuntu_version(tenant_a)
    response = ci.post(reverse("gate-check"), {"image": "ubuntu-2204-base@1.0.0", "environment": "prod"}, format="json")
    assert (response.status_code, response.json()["errors"][0]["path"]) == (400, "/environment")
    assert GateDecision.objects.count() == 0
