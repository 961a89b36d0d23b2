"""SARIF suppressions / baselineState (SARIF 2.1.0 sections 3.27.23, 3.35.3, 3.27.24) and InSpec overlay merging.

Expected figures come from the fixtures' ORIGIN notes (fixtures/external/*/ORIGIN.md), worked out from the spec and
from Heimdall's overlay rule, not from this parser.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from apps.compliance.parsers import ParsedInspec, ParsedSarif, detect_and_parse
from apps.compliance.parsers.sarif import is_suppressed
from apps.compliance.services.evaluation import check_scan, cis_pass_percent
from apps.compliance.services.scan_counts import inspec_counts, sarif_counts

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "external"


def parse(name: str):
    path = FIXTURES / name
    return detect_and_parse("sarif" if name.startswith("sarif") else "inspec", path.read_bytes(), filename=path.name)


def test_suppressed_results_are_not_open() -> None:
    log = parse("sarif/flawfinder-suppressions.sarif")
    assert isinstance(log, ParsedSarif)
    assert log.total_results == 9
    assert log.results_by_level == {"error": 5, "warning": 0, "note": 0, "none": 0}
    assert log.suppressed_by_level == {"error": 4, "warning": 0, "note": 0, "none": 0}
    assert (log.open_results, log.suppressed_results) == (5, 4)
    assert log.baseline == {"new": 2, "unchanged": 2, "updated": 1, "absent": 1}
    listed = [[(s["kind"], s["status"]) for s in item["suppressions"]] for item in log.suppressions]
    assert listed == [
        [("inSource", "accepted")],  # no status: accepted (3.35.3)
        [("inSource", "accepted")],
        [("external", "accepted")],
        [("external", "accepted"), ("inSource", "accepted")],
    ]
    assert log.suppressions[1]["suppressions"][0]["justification"] == "buffer is sized by the caller (reviewed 2024-05)"
    assert [item["rule_id"] for item in log.suppressions] == ["FF1010", "FF1011", "FF1023", "FF1010"]


def test_suppression_rule_per_status() -> None:
    assert not is_suppressed({})
    assert not is_suppressed({"suppressions": []})
    assert is_suppressed({"suppressions": [{"kind": "external"}]})
    assert not is_suppressed({"suppressions": [{"kind": "external", "status": "underReview"}]})
    assert not is_suppressed({"suppressions": [{"kind": "inSource", "status": "rejected"}]})
    assert not is_suppressed({"suppressions": [{"kind": "inSource"}, {"kind": "external", "status": "rejected"}]})


def test_gate_counts_open_findings_only() -> None:
    counts = sarif_counts(parse("sarif/flawfinder-suppressions.sarif"))
    summary = type("Summary", (), {"kind": "sarif", "tool": "Flawfinder", "counts": counts, "execution_failed": False})
    scan = {"type": "vulnerability", "tool": "flawfinder", "thresholds": {"max_findings": 5, "max_critical": 5}}
    assert check_scan(scan, [summary]).failures == ()
    scan["thresholds"] = {"max_findings": 4}
    assert check_scan(scan, [summary]).failures == ("5 findings > max 4",)


def test_unknown_suppression_status_is_refused() -> None:
    doc = json.loads((FIXTURES / "sarif/flawfinder-suppressions.sarif").read_bytes())
    bad = copy.deepcopy(doc)
    bad["runs"][0]["results"][1]["suppressions"][0]["status"] = "maybe"
    from apps.compliance.parsers import DocumentError

    try:
        detect_and_parse("sarif", json.dumps(bad).encode(), filename="x.sarif")
    except DocumentError as exc:
        assert exc.code == "invalid_document"
        assert exc.path.startswith("/runs/0/results/1/suppressions")
    else:  # pragma: no cover - the assertion below documents the failure
        raise AssertionError("an unknown suppression status was accepted")


def test_overlay_controls_are_merged_along_the_chain() -> None:
    report = parse("inspec/acme-overlay-three-layers.json")
    assert isinstance(report, ParsedInspec)
    assert report.listed_controls == 15
    assert report.chain == (("acme-hardening", "acme-cis-overlay", "linux-baseline"),)
    assert {c.id: c.status for c in report.controls} == {
        "os-01": "passed",  # results only in the base layer
        "os-02": "failed",  # the wrapper's own result
        "os-03": "skipped",  # skipped by the wrapper stays skipped
        "os-04": "not_applicable",  # the wrapper's impact 0 wins over the base's failure
        "os-05": "no_results",
    }
    assert {c.id: c.impact for c in report.controls}["os-03"] == 0.5
    assert all(c.profile == "acme-hardening" for c in report.controls)
    assert report.controls[0].layers == ("acme-hardening", "acme-cis-overlay", "linux-baseline")
    assert report.control_status == {
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "not_applicable": 1,
        "error": 0,
        "no_results": 1,
    }
    assert report.result_status == {"passed": 2, "failed": 2, "skipped": 1, "error": 0}  # os-04 keeps its base result
    assert cis_pass_percent(inspec_counts(report)) == 25.0


def test_unrelated_profiles_are_not_merged() -> None:
    doc = json.loads((FIXTURES / "inspec/acme-overlay-three-layers.json").read_bytes())
    for profile in doc["profiles"]:
        profile.pop("parent_profile", None)
        profile["depends"] = []
    report = detect_and_parse("inspec", json.dumps(doc).encode(), filename="x.json")
    assert len(report.controls) == 15
    assert len(report.chain) == 3
