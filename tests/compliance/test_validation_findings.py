"""Imperfect vendor documents are imported with their validation findings; strict mode refuses them (issue #14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from apps.compliance.models import SbomDocument, SbomPackage, ScanSummary, Upload
from apps.compliance.parsers import DocumentError, detect_and_parse
from apps.compliance.selectors import version_badges
from apps.compliance.services import upload_store_and_parse
from qlrf.errors import DocumentRejected
from tests.compliance.conftest import fixture_bytes, ubuntu_version
from tests.conftest import client_for

LENIENT = Path(__file__).resolve().parents[2] / "fixtures" / "lenient"
UBI9 = "sbom/spdx/ubi9-9.2-755.1697625012.spdx.json"


def lenient(name: str) -> bytes:
    return (LENIENT / name).read_bytes()


def test_tag_value_without_download_locations_is_read_with_a_finding_per_package():
    sbom = detect_and_parse("sbom", lenient("no-download-location.spdx"))
    assert len(sbom.packages) == 4
    assert [(f.path, f.rule) for f in sbom.findings] == [
        ("line 71", "missing-download-location"),
        ("line 169", "missing-download-location"),
        ("line 178", "missing-download-location"),
        ("line 186", "missing-download-location"),
    ]
    assert sbom.findings[0].message == (
        "package 'glibc' has no download location (required by SPDX 2.x); read as NOASSERTION"
    )


def test_json_without_a_download_location_points_at_the_package():
    sbom = detect_and_parse("sbom", lenient("example11-no-download-location.spdx.json"))
    assert len(sbom.packages) == 4
    assert [(f.path, f.rule) for f in sbom.findings] == [("/packages/0/downloadLocation", "missing-download-location")]


def test_a_vendor_sbom_with_non_spdx_licence_ids_lists_them_and_keeps_them_as_written():
    sbom = detect_and_parse("sbom", fixture_bytes(UBI9))
    assert len(sbom.packages) == 610
    unknown = [f for f in sbom.findings if f.rule == "unknown-license-id"]
    assert len(unknown) == len(sbom.findings) == 508
    assert unknown[0] == unknown[0].__class__(
        "/packages/0", "unknown-license-id", "package 'libsepol': LGPLV2+ is not an SPDX licence id (kept as written)"
    )
    assert sbom.packages[0].license == "LGPLV2+"


def test_licence_refs_and_valid_expressions_are_not_findings():
    document = json.loads(fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json"))
    document["packages"][0]["licenseConcluded"] = "LicenseRef-acme AND (MIT OR Apache-2.0 WITH LLVM-exception)"
    document["packages"][1]["licenseConcluded"] = "GPLv2+"
    sbom = detect_and_parse("sbom", json.dumps(document).encode())
    assert [(f.path, f.rule) for f in sbom.findings] == [("/packages/1", "unknown-license-id")]


def test_a_sarif_run_with_a_null_tool_name_is_read_as_unknown_with_a_finding():
    sarif = detect_and_parse("sarif", lenient("codeql-null-driver-name.sarif"))
    assert set(sarif.by_tool) == {"LGTM.com", "unknown"}
    assert sum(sarif.results_by_level.values()) == 3
    assert [(f.path, f.rule) for f in sarif.findings] == [("/runs/1/tool/driver/name", "null-tool-name")]


def test_malformed_documents_stay_refused_in_lenient_mode():
    text = lenient("example11-no-download-location.spdx.json")
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", text[: len(text) // 2])
    assert caught.value.code == "truncated"


def test_no_library_internals_in_a_refusal():
    broken = lenient("no-download-location.spdx").replace(b"PackageName: glibc", b"PackageName:")
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", broken)
    assert "__init__" not in caught.value.detail and "positional argument" not in caught.value.detail


@pytest.mark.django_db
def test_imported_findings_are_stored_shown_in_the_api_and_counted_on_the_badge(tenant_a, client):
    version = ubuntu_version(tenant_a)
    upload, _ = upload_store_and_parse(actor=None, version=version, kind="sbom", data=fixture_bytes(UBI9))
    sbom = SbomDocument.objects.get(upload=upload)
    assert (sbom.package_count, sbom.findings_count, len(sbom.findings)) == (610, 508, 508)
    body = client_for(tenant_a.users["viewer"]).get(reverse("image-sbom", args=[version.pk])).json()
    assert body["findings_count"] == 508
    assert body["findings"][0] == {
        "path": "/packages/0",
        "rule": "unknown-license-id",
        "message": "package 'libsepol': LGPLV2+ is not an SPDX licence id (kept as written)",
    }
    badge = next(b for b in version_badges(version) if b.key == "sbom")
    assert badge.label == "spdx 610 pkgs, 508 findings"
    client.force_login(tenant_a.users["viewer"])
    page = client.get(reverse("images:version-detail", args=[version.pk]))
    assert b"508 validation findings" in page.content and b"LGPLV2+" in page.content


@pytest.mark.django_db
def test_a_scan_with_a_finding_is_stored_with_it(tenant_a):
    version = ubuntu_version(tenant_a)
    upload, _ = upload_store_and_parse(
        actor=None, version=version, kind="scan", data=lenient("codeql-null-driver-name.sarif")
    )
    summary = ScanSummary.objects.get(upload=upload)
    assert summary.findings_count == 1 and summary.findings[0]["rule"] == "null-tool-name"
    assert "unknown" in summary.tool


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("kind", "data", "path"),
    [
        ("sbom", lambda: lenient("no-download-location.spdx"), "line 71"),
        ("sbom", lambda: lenient("example11-no-download-location.spdx.json"), "/packages/0/downloadLocation"),
        ("scan", lambda: lenient("codeql-null-driver-name.sarif"), "/runs/1/tool/driver/name"),
    ],
)
def test_strict_mode_refuses_documents_with_findings_and_keeps_the_rejection(tenant_a, kind, data, path):
    organization = tenant_a.organization
    organization.strict_documents = True
    organization.save()
    version = ubuntu_version(tenant_a)
    with pytest.raises(DocumentRejected) as caught:
        upload_store_and_parse(actor=None, version=version, kind=kind, data=data())
    assert caught.value.code == "validation_findings"
    assert caught.value.errors[0]["path"] == path
    assert "refuses documents with validation findings" in caught.value.detail
    assert list(Upload.objects.values_list("status", "rejection_code")) == [("rejected", "validation_findings")]
    assert SbomPackage.objects.count() == 0 and ScanSummary.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_strict_mode_accepts_a_clean_document(tenant_a):
    tenant_a.organization.strict_documents = True
    tenant_a.organization.save()
    upload, created = upload_store_and_parse(
        actor=None, version=ubuntu_version(tenant_a), kind="sbom",
        data=fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json"),
    )  # fmt: skip
    assert created and upload.status == "accepted" and upload.sbom.findings_count == 0
