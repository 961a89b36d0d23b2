"""Suppressed SARIF findings: not counted by the gate or the vulnerabilities badge, shown by the API and the portal."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.compliance.selectors import version_badges
from apps.compliance.services import gate_check, upload_store_and_parse
from tests.compliance.conftest import fixture_bytes
from tests.compliance.test_api import ci  # noqa: F401 - the CI-token API client fixture
from tests.compliance.test_gate import _compliant_rhel

pytestmark = pytest.mark.django_db


def grype_log(*suppressions) -> bytes:
    """Grype-named log: one `error` result per entry, with that entry as its `suppressions` (None: no property)."""
    results = []
    for i, items in enumerate(suppressions):
        result = {"ruleId": f"CVE-2024-{i}", "level": "error", "message": {"text": "finding"}}
        if items is not None:
            result["suppressions"] = items
        results.append(result)
    return json.dumps(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "grype"}}, "results": results}]}
    ).encode()


ACCEPTED = [{"kind": "external", "status": "accepted", "justification": "not reachable: vendored test data"}]


def test_badge_and_gate_count_open_findings_only(tenant_a, envs, signer):
    version = _compliant_rhel(tenant_a, signer)
    upload_store_and_parse(actor=None, version=version, kind="scan", data=grype_log(ACCEPTED, [{"kind": "inSource"}]))
    badge = version_badges(version)[4]
    assert (badge.key, badge.status) == ("vulnerabilities", "pass")
    decision = gate_check(actor=tenant_a.users["viewer"], version=version, environment=envs[0])
    assert decision.allowed, decision.reasons
    # the same two findings, one suppression now under review: that one is open again and counts as critical
    upload_store_and_parse(
        actor=None,
        version=version,
        kind="scan",
        data=grype_log(ACCEPTED, [{"kind": "inSource", "status": "underReview"}]),
    )
    badge = version_badges(version)[4]
    assert (badge.status, badge.tooltip) == ("fail", "1 critical (SARIF error) > max 0; 1 high (SARIF error) > max 0")
    decision = gate_check(actor=tenant_a.users["viewer"], version=version, environment=envs[0])
    assert not decision.allowed


def test_api_and_portal_show_suppressed_findings(tenant_a, ci, signer, client):  # noqa: F811
    version = _compliant_rhel(tenant_a, signer)
    url = reverse("image-scans", args=[version.pk])
    response = ci.post(url, fixture_bytes("sarif/flawfinder-suppressions.sarif"), content_type="application/sarif+json")
    assert response.status_code == 201
    counts = response.json()["counts"]
    assert (counts["error"], counts["total"], counts["suppressed"]["error"]) == (5, 9, 4)
    assert counts["baseline"] == {"new": 2, "unchanged": 2, "updated": 1, "absent": 1}
    assert counts["suppressions"][2]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "accepted risk in the triage database"}
    ]
    upload_store_and_parse(
        actor=None, version=version, kind="scan", data=fixture_bytes("inspec/acme-overlay-three-layers.json")
    )
    client.force_login(tenant_a.users["viewer"])
    page = client.get(reverse("images:version-detail", args=[version.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Open findings: <strong>5</strong>" in body and "suppressed: <strong>4</strong>" in body
    assert "accepted risk in the triage database" in body
    assert "Since the baseline scan: new 2, unchanged 2, updated 1, absent 1." in body
    assert "Profile chain: acme-hardening → acme-cis-overlay → linux-baseline" in body
    assert "passed 1, failed 1, skipped 1, not applicable 1, error 0, no results 1" in body


def test_reports_count_open_findings_only(tenant_a, envs, signer):
    """The image-versions export (reports, and the badges the PDF and packs show) uses the same open counts."""
    from apps.evidence.reports.csv_exports import VERSION_HEADER, image_version_export

    version = _compliant_rhel(tenant_a, signer)
    upload_store_and_parse(actor=None, version=version, kind="scan", data=grype_log(ACCEPTED, ACCEPTED))
    export = image_version_export(tenant_a.organization, user=tenant_a.users["viewer"], params={})
    rows = [dict(zip(VERSION_HEADER, row, strict=True)) for row in export.rows]
    row = next(r for r in rows if r["version"] == version.version and r["family"] == version.family.slug)
    assert row["vulnerabilities_status"] == "pass", row
    upload_store_and_parse(actor=None, version=version, kind="scan", data=grype_log(ACCEPTED, None))
    export = image_version_export(tenant_a.organization, user=tenant_a.users["viewer"], params={})
    rows = [dict(zip(VERSION_HEADER, row, strict=True)) for row in export.rows]
    row = next(r for r in rows if r["version"] == version.version and r["family"] == version.family.slug)
    assert row["vulnerabilities_status"] == "fail", row  # one open critical now
