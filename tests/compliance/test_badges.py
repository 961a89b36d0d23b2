"""Badges (statuses from the evidence, set-based), the public keyed SVG URL, provenance and ``rf sbom import``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance.models import ProvenanceDocument, SbomPackage, Upload
from apps.compliance.selectors import version_badges, version_badges_for
from apps.compliance.services import upload_store_and_parse
from apps.images.models import ImageVersion
from qlrf.errors import DocumentRejected
from tests.compliance.conftest import fixture_bytes, ubuntu_version
from tests.compliance.test_gate import _compliant_rhel, sarif
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
DSSE = "sigstore/conformance/happy-path-intoto-in-dsse-v3.sigstore.json"


def statuses(badges) -> list[tuple[str, str, str]]:
    return [(b.key, b.status, b.label) for b in badges]


def test_badges_of_a_version_without_evidence(tenant_a):
    version = ubuntu_version(tenant_a)
    assert statuses(version_badges(version)) == [
        ("cis", "unknown", "L1 no results"),
        ("slsa", "fail", "none"),
        ("signed", "fail", "unsigned"),
        ("sbom", "fail", "missing"),
        ("vulnerabilities", "unknown", "no scan"),
    ]


def test_badges_of_a_compliant_version(tenant_a, signer):
    version = _compliant_rhel(tenant_a, signer)
    upload_store_and_parse(actor=None, version=version, kind="provenance", data=fixture_bytes(DSSE))
    badges = version_badges(version)
    assert statuses(badges) == [
        ("cis", "pass", "L2 99%"),
        ("slsa", "pass", "L2"),
        ("signed", "pass", "keypair"),
        ("sbom", "pass", "cyclonedx 3 pkgs"),
        ("vulnerabilities", "pass", "ok"),
    ]
    assert badges[0].tooltip == (
        "CIS Red Hat Enterprise Linux 9 Benchmark v1.0.0 level 2: pass rate 99%, threshold 98.5%"
    )
    assert badges[1].tooltip == (
        "provenance claims L2 (builder https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml"
        "@refs/heads/main); contract requires L2"
    )


def test_badges_turn_fail_and_warn(tenant_a, signer):
    from apps.images.services import image_artifact_add

    version = _compliant_rhel(tenant_a, signer)
    upload_store_and_parse(actor=None, version=version, kind="scan", data=sarif("grype", ["error"]))
    upload_store_and_parse(
        actor=None, version=version, kind="scan", data=fixture_bytes("inspec/rhel8_sample_oneOfEachControlStatus.json")
    )
    image_artifact_add(actor=None, version=version, platform="aws", image_ref="ami-0new", region="us-east-1")
    badges = version_badges(version)
    assert statuses(badges) == [
        ("cis", "fail", "L2 33.3%"),
        ("slsa", "fail", "none"),
        ("signed", "warn", "stale"),
        ("sbom", "pass", "cyclonedx 3 pkgs"),
        ("vulnerabilities", "fail", "over threshold"),
    ]
    assert badges[4].tooltip == "1 critical (SARIF error) > max 0; 1 high (SARIF error) > max 0"


def test_badges_for_many_versions_take_a_fixed_number_of_queries(tenant_a, django_assert_max_num_queries):
    for n in range(6):
        version = ubuntu_version(tenant_a, f"1.{n}.0")
        upload_store_and_parse(
            actor=None, version=version, kind="sbom", data=fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json")
        )
    versions = list(ImageVersion.objects.select_related("family", "organization"))
    with django_assert_max_num_queries(5):
        result = version_badges_for(versions)
    assert [b.status for b in result[versions[0].pk]] == ["unknown", "fail", "fail", "pass", "unknown"]
    assert len(result) == 6


def test_public_badge_svg_needs_the_key_and_reveals_only_the_badge(tenant_a, tenant_b):
    version = ubuntu_version(tenant_a)
    listed = client_for(tenant_a.users["viewer"]).get(reverse("image-badges", args=[version.pk])).json()
    sbom = next(row for row in listed if row["key"] == "sbom")
    assert sbom["url"].startswith("/api/v1/badges/alpha/ubuntu-2204-base/1.0.0/sbom.svg?key=")
    anonymous = APIClient()
    response = anonymous.get(sbom["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    svg = response.content.decode()
    assert svg.startswith("<svg ") and ">SBOM</text>" in svg and ">missing</text>" in svg and "#c62828" in svg
    path = sbom["url"].split("?")[0]
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(path + "?key=forged").status_code == 404
    foreign = path.replace("/alpha/", "/bravo/")
    ubuntu_version(tenant_b)
    assert anonymous.get(foreign + "?" + sbom["url"].split("?")[1]).status_code == 404
    assert anonymous.get(path.replace("sbom.svg", "bogus.svg")).content == anonymous.get(path).content
    assert client_for(tenant_b.users["admin"]).get(reverse("image-badges", args=[version.pk])).status_code == 404


def test_provenance_upload_claims(tenant_a):
    version = ubuntu_version(tenant_a)
    upload, _ = upload_store_and_parse(actor=None, version=version, kind="provenance", data=fixture_bytes(DSSE))
    document = ProvenanceDocument.objects.get(upload=upload)
    assert (document.predicate_type, document.signed, document.slsa_level) == (
        "https://slsa.dev/provenance/v1",
        True,
        2,
    )
    with pytest.raises(DocumentRejected) as refused:
        upload_store_and_parse(
            actor=None, version=version, kind="provenance", data=fixture_bytes("sbom/cyclonedx/valid-bom-1.6.json")
        )
    assert (refused.value.code, refused.value.errors[0]["path"]) == ("invalid_document", "/_type")
    assert ProvenanceDocument.objects.count() == 1


def test_sbom_import_command(tenant_a, capsys):
    ubuntu_version(tenant_a)
    path = "fixtures/external/sbom/spdx/ubi9-9.2-755.1697625012.spdx.json"
    call_command("sbom_import", "--org", "alpha", "--image", "ubuntu-2204-base@1.0.0", path)
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: imported spdx 2.2 (json) with 610 packages for ubuntu-2204-base@1.0.0 (sha256 ")
    assert SbomPackage.objects.count() == 610
    bad = "fixtures/external/sbom/cyclonedx/invalid-bomformat-1.6.json"
    with pytest.raises(CommandError, match="SBOM rejected \\(invalid_document\\); the upload is kept as rejected"):
        call_command("sbom_import", "--org", "alpha", "--image", "ubuntu-2204-base@1.0.0", bad)
    assert capsys.readouterr().err.strip() == (
        f'{bad}: /bomFormat: invalid_document: "AnotherFormat" is not one of "CycloneDX"'
    )
    assert list(Upload.objects.order_by("id").values_list("status", flat=True)) == ["accepted", "rejected"]
    assert SbomPackage.objects.count() == 610
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("sbom_import", "--org", "nope", "--image", "ubuntu-2204-base@1.0.0", path)
