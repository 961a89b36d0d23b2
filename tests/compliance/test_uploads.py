"""Uploads: every fixture stored then parsed, summaries, refusals recorded whole and nothing partial written."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from apps.compliance.models import SbomDocument, SbomPackage, ScanSummary, Upload
from apps.compliance.services import SCAN, upload_store_and_parse
from apps.tenancy.models import AuditEvent
from qlrf.errors import DocumentRejected
from tests.compliance.conftest import fixture_bytes, ubuntu_version

pytestmark = pytest.mark.django_db

# (fixture, format, spec version, encoding, package count from fixtures/external/README.md)
SBOMS = [
    ("sbom/spdx/SPDXJSONExample-v2.3.spdx.json", "spdx", "2.3", "json", 4),
    ("sbom/spdx/SPDXTagExample-v2.3.spdx", "spdx", "2.3", "tag-value", 4),
    ("sbom/spdx/ubi9-9.2-755.1697625012.spdx.json", "spdx", "2.2", "json", 610),
    ("sbom/spdx/spdx-examples-example11.spdx.json", "spdx", "2.3", "json", 4),
    ("sbom/spdx/spdx-examples-example11.spdx3.json", "spdx", "3.0.1", "json-ld", 4),
    ("sbom/cyclonedx/valid-bom-1.6.json", "cyclonedx", "1.6", "json", 3),
    ("sbom/cyclonedx/valid-bom-1.5.xml", "cyclonedx", "1.5", "xml", 3),
    ("sbom/cyclonedx/valid-vulnerability-1.6.json", "cyclonedx", "1.6", "json", 1),
    ("sbom/cyclonedx/syft-scan-alpine-container.cdx.json", "cyclonedx", "1.6", "json", 16),
    ("sbom/cyclonedx/guac-alpine-cyclonedx.json", "cyclonedx", "1.4", "json", 15),
]


@pytest.mark.parametrize(("name", "fmt", "spec", "encoding", "count"), SBOMS)
def test_every_sbom_fixture_is_stored_then_parsed_into_package_rows(tenant_a, name, fmt, spec, encoding, count):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes(name)
    upload, created = upload_store_and_parse(
        actor=tenant_a.users["engineer"], version=version, kind="sbom", data=data, filename=name.rsplit("/", 1)[1]
    )
    assert created is True
    assert (upload.status, upload.kind, upload.size) == ("accepted", "sbom", len(data))
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.file.name == f"uploads/alpha/{upload.sha256}"
    with default_storage.open(upload.file.name, "rb") as stored:
        assert stored.read() == data
    sbom = upload.sbom
    assert (sbom.format, sbom.spec_version, sbom.encoding, sbom.package_count) == (fmt, spec, encoding, count)
    assert SbomPackage.objects.filter(sbom=sbom, version=version, organization=tenant_a.organization).count() == count
    assert AuditEvent.objects.filter(action="compliance.upload.accept", object_id=str(upload.pk)).count() == 1


def test_the_same_sbom_again_is_a_no_op(tenant_a):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json")
    first, _ = upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
    again, created = upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
    assert (again.pk, created) == (first.pk, False)
    assert (Upload.objects.count(), SbomPackage.objects.count()) == (1, 4)


def test_sbom_package_fields_are_kept(tenant_a):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json")
    upload, _ = upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
    rows = set(upload.sbom.packages.values_list("name", "package_version", "purl", "license"))
    assert rows == {
        ("hello-server-src", "0.1.0", "pkg:deb/debian/libselinux1-dev@3.1-3?arch=s390x", "Apache-2.0"),
        ("hyper", "0.14", "pkg:cargo/hyper@0.14", "MIT"),
        ("tokio", "1.19.2", "pkg:cargo/tokio@1.19.2", "MIT"),
        ("pretty_env_logger", "0.4.0", "pkg:cargo/pretty_env_logger@0.4.0", "MIT OR Apache-2.0"),
    }


@pytest.mark.parametrize(
    ("name", "kind", "tool", "counts", "failed"),
    [
        ("sarif/trivy-alpine-310.sarif", "sarif", "Trivy", {"error": 0, "warning": 4, "note": 0, "none": 0}, False),
        ("sarif/grype-image.sarif", "sarif", "grype", {"error": 1, "warning": 0, "note": 1, "none": 0}, False),
        ("sarif/flawfinder.sarif", "sarif", "Flawfinder", {"error": 35, "warning": 7, "note": 35, "none": 0}, False),
        (
            "sarif/codeql-action-valid-sarif.sarif",
            "sarif",
            "LGTM.com, CodeQL command-line toolchain",
            {"error": 0, "warning": 0, "note": 3, "none": 0},
            False,
        ),
        (
            "sarif/catastrophic-execution-error.sarif",
            "sarif",
            "CodeScanner",
            {"error": 0, "warning": 0, "note": 0, "none": 0},
            True,
        ),
        (
            "inspec/rhel8_sample_oneOfEachControlStatus.json",
            "inspec",
            "inspec",
            {"passed": 1, "failed": 1, "skipped": 1, "not_applicable": 1, "error": 0, "no_results": 0},
            False,
        ),
        (
            "inspec/ubuntu-16.04-baseline-results.json",
            "inspec",
            "inspec",
            {"passed": 87, "failed": 139, "skipped": 4, "not_applicable": 0, "error": 0, "no_results": 0},
            False,
        ),
    ],
)
def test_scan_results_are_detected_and_summarised(tenant_a, name, kind, tool, counts, failed):
    version = ubuntu_version(tenant_a)
    upload, _ = upload_store_and_parse(actor=None, version=version, kind=SCAN, data=fixture_bytes(name))
    assert (upload.kind, upload.status) == (kind, "accepted")
    summary = ScanSummary.objects.get(upload=upload)
    top_level = {key: summary.counts[key] for key in counts}
    assert (summary.kind, summary.tool, top_level, summary.execution_failed) == (kind, tool, counts, failed)
    if kind == "sarif":  # none of these logs has a suppression: every result is open
        assert summary.counts["suppressed"] == dict.fromkeys(("error", "warning", "note", "none"), 0)
        assert summary.counts["total"] == sum(counts.values())
    else:  # none of these reports is an overlay: one chain of one profile each, nothing merged
        assert summary.counts["listed_controls"] == sum(counts.values())


def test_a_rejected_sbom_keeps_a_rejected_upload_and_writes_no_package(tenant_a):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes("sbom/cyclonedx/invalid-bomformat-1.6.json")
    with pytest.raises(DocumentRejected) as refused:
        upload_store_and_parse(actor=tenant_a.users["engineer"], version=version, kind="sbom", data=data)
    assert refused.value.code == "invalid_document"
    assert refused.value.errors == [
        {"path": "/bomFormat", "code": "invalid_document", "detail": '"AnotherFormat" is not one of "CycloneDX"'}
    ]
    upload = Upload.objects.get()
    assert (upload.status, upload.rejection_code, upload.rejection_path) == (
        "rejected",
        "invalid_document",
        "/bomFormat",
    )
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    with default_storage.open(upload.file.name, "rb") as stored:
        assert stored.read() == data  # the refused original is kept for the audit trail
    assert (SbomDocument.objects.count(), SbomPackage.objects.count()) == (0, 0)
    assert AuditEvent.objects.filter(action="compliance.upload.reject").count() == 1


def test_a_malformed_scan_is_rejected_as_its_detected_format(tenant_a):
    version = ubuntu_version(tenant_a)
    with pytest.raises(DocumentRejected) as refused:
        upload_store_and_parse(actor=None, version=version, kind=SCAN, data=b'{"runs": [], "version": "2.1.0"')
    assert refused.value.code == "truncated"
    assert Upload.objects.get().status == "rejected"
    assert ScanSummary.objects.count() == 0


def test_a_value_longer_than_its_column_rejects_the_whole_sbom(tenant_a):
    version = ubuntu_version(tenant_a)
    data = fixture_bytes("sbom/spdx/spdx-examples-example11.spdx.json").replace(b'"tokio"', b'"' + b"t" * 600 + b'"')
    with pytest.raises(DocumentRejected) as refused:
        upload_store_and_parse(actor=None, version=version, kind="sbom", data=data)
    assert refused.value.code == "value_too_long"
    assert refused.value.errors[0]["path"] == "/packages/2/name"
    assert (Upload.objects.get().status, SbomPackage.objects.count(), SbomDocument.objects.count()) == (
        "rejected",
        0,
        0,
    )


def test_oversized_upload_is_too_large_and_not_stored(tenant_a, settings, media_root):
    settings.QLRF_UPLOAD_MAX_BYTES = 1000
    version = ubuntu_version(tenant_a)
    with pytest.raises(DocumentRejected) as refused:
        upload_store_and_parse(actor=None, version=version, kind="sbom", data=b"{" + b" " * 1000 + b"}")
    assert refused.value.code == "too_large"
    upload = Upload.objects.get()
    assert (upload.status, upload.rejection_code, upload.size, upload.file.name) == ("rejected", "too_large", 1002, "")
    assert not (media_root / "uploads").exists()


def test_a_viewer_may_not_upload_and_nothing_is_stored(tenant_a, media_root):
    version = ubuntu_version(tenant_a)
    with pytest.raises(PermissionDenied):
        upload_store_and_parse(
            actor=tenant_a.users["viewer"],
            version=version,
            kind="sbom",
            data=fixture_bytes("sbom/cyclonedx/valid-bom-1.6.json"),
        )
    assert Upload.objects.count() == 0
    assert not (media_root / "uploads").exists()


def test_a_write_failure_after_parsing_leaves_no_partial_rows(tenant_a, monkeypatch):
    version = ubuntu_version(tenant_a)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("apps.compliance.services.uploads.audit_record", broken)
    with pytest.raises(RuntimeError):
        upload_store_and_parse(
            actor=None, version=version, kind="sbom", data=fixture_bytes("sbom/spdx/ubi9-9.2-755.1697625012.spdx.json")
        )
    assert (Upload.objects.count(), SbomDocument.objects.count(), SbomPackage.objects.count()) == (0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_rejection_row_is_committed_before_the_refusal_is_raised(tenant_a):
    """With real commits (no test transaction around it) the rejected row outlives the refused call."""
    version = ubuntu_version(tenant_a)
    with pytest.raises(DocumentRejected):
        upload_store_and_parse(actor=None, version=version, kind="sbom", data=b"not an sbom")
    from django.db import connection

    assert connection.in_atomic_block is False
    assert list(Upload.objects.values_list("status", "rejection_code")) == [("rejected", "unsupported_format")]
