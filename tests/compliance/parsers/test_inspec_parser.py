"""Every InSpec fixture gives the README's control and result status counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compliance.parsers import DocumentError, ParsedInspec, detect_and_parse
from apps.compliance.parsers.inspec import control_status


def parse_inspec(external: Path, name: str) -> ParsedInspec:
    path = external / "inspec" / name
    return detect_and_parse("inspec", path.read_bytes(), filename=path.name)


def statuses(**counts: int) -> dict[str, int]:
    base = {"passed": 0, "failed": 0, "skipped": 0, "not_applicable": 0, "error": 0, "no_results": 0}
    return base | counts


def test_rhel8_one_of_each_status(external: Path) -> None:
    report = parse_inspec(external, "rhel8_sample_oneOfEachControlStatus.json")
    assert report.inspec_version == "5.22.40"
    assert report.platform == "redhat 8.9"
    assert report.profiles == ("redhat-enterprise-linux-8-stig-baseline",)
    assert len(report.controls) == 4
    assert len({c.id for c in report.controls}) == 4
    assert report.control_status == statuses(failed=1, not_applicable=1, passed=1, skipped=1)
    assert report.result_status == {"passed": 1, "failed": 2, "skipped": 2, "error": 0}
    first = report.controls[0]
    assert (first.id, first.impact, first.status) == ("SV-230221", 0.7, "passed")
    assert first.title == "RHEL 8 must be a vendor-supported release."


def test_ubuntu_1604_stig(external: Path) -> None:
    report = parse_inspec(external, "ubuntu-16.04-baseline-results.json")
    assert report.inspec_version == "4.10.4"
    assert report.platform == "ubuntu 16.04"
    assert report.profiles == ("Canonical Ubuntu 16.04 LTS Security Technical Implementation Guide",)
    assert len(report.controls) == 230
    assert len({c.id for c in report.controls}) == 230
    assert report.control_status == statuses(failed=139, passed=87, skipped=4)
    assert report.result_status == {"passed": 179, "failed": 218, "skipped": 6, "error": 0}
    assert all(c.impact > 0 for c in report.controls)


def test_aws_s3_mixed_results_make_failed_controls(external: Path) -> None:
    report = parse_inspec(external, "aws-s3-baseline.json")
    assert report.inspec_version == "3.0.46"
    assert report.platform == "aws aws-sdk-v2.11.162"
    assert report.profiles == ("aws-s3-baseline",)
    assert [c.status for c in report.controls] == ["failed", "failed"]
    assert report.control_status == statuses(failed=2)
    assert report.result_status == {"passed": 4, "failed": 2, "skipped": 0, "error": 0}


@pytest.mark.parametrize(
    ("impact", "results", "expected"),
    [
        (0.0, ["passed", "error"], "error"),
        (0.0, ["failed"], "not_applicable"),
        (0.5, ["passed", "failed", "skipped"], "failed"),
        (0.5, ["skipped", "passed"], "passed"),
        (0.5, ["skipped"], "skipped"),
        (0.5, [], "no_results"),
        (0.0, [], "not_applicable"),
    ],
)
def test_control_status_precedence(impact: float, results: list[str], expected: str) -> None:
    assert control_status(impact, results) == expected


def test_bad_result_status_is_refused_with_a_pointer() -> None:
    doc = {
        "version": "5.0.0",
        "platform": {"name": "x"},
        "profiles": [{"name": "p", "controls": [{"id": "c", "impact": 0.5, "results": [{"status": "maybe"}]}]}],
    }
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("inspec", json.dumps(doc).encode())
    assert (caught.value.code, caught.value.path) == ("invalid_document", "/profiles/0/controls/0/results/0/status")


def test_missing_impact_is_refused_with_a_pointer() -> None:
    doc = {"version": "5.0.0", "profiles": [{"name": "p", "controls": [{"id": "c", "results": []}]}]}
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("inspec", json.dumps(doc).encode())
    assert (caught.value.code, caught.value.path) == ("invalid_document", "/profiles/0/controls/0")
