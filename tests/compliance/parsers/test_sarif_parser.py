"""Every SARIF fixture gives the README's per-run counts; effective levels follow SARIF 2.1.0 section 3.27.10."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compliance.parsers import DocumentError, ParsedSarif, detect_and_parse
from apps.compliance.parsers.sarif import effective_level


def parse_sarif(external: Path, name: str) -> ParsedSarif:
    path = external / "sarif" / name
    return detect_and_parse("sarif", path.read_bytes(), filename=path.name)


def run_facts(log: ParsedSarif) -> list[tuple]:
    return [
        (r.tool, r.tool_version, r.results, r.levels, r.level_missing, len(r.rule_ids), r.rules, r.execution_successful)
        for r in log.runs
    ]


def test_trivy(external: Path) -> None:
    log = parse_sarif(external, "trivy-alpine-310.sarif")
    assert log.version == "2.1.0"
    assert run_facts(log) == [("Trivy", "dev", 4, {"warning": 4}, 0, 2, 2, ())]
    assert log.results_by_level == {"error": 0, "warning": 4, "note": 0, "none": 0}
    assert log.total_results == 4
    assert log.execution_failed is False


def test_codeql_two_runs_levels_from_rule_defaults(external: Path) -> None:
    log = parse_sarif(external, "codeql-action-valid-sarif.sarif")
    assert run_facts(log) == [
        ("LGTM.com", "1.24.0-SNAPSHOT", 1, {"note": 1}, 1, 1, 1, ()),
        ("CodeQL command-line toolchain", "2.0.0", 2, {"note": 2}, 2, 2, 2, ()),
    ]
    assert log.tools == ("LGTM.com", "CodeQL command-line toolchain")
    assert log.total_results == 3
    assert log.results_by_level == {"error": 0, "warning": 0, "note": 3, "none": 0}
    assert log.by_tool == {
        "LGTM.com": {"error": 0, "warning": 0, "note": 1, "none": 0},
        "CodeQL command-line toolchain": {"error": 0, "warning": 0, "note": 2, "none": 0},
    }
    assert log.rules == 3


def test_flawfinder_results_without_level_default_to_warning(external: Path) -> None:
    log = parse_sarif(external, "flawfinder.sarif")
    assert run_facts(log) == [("Flawfinder", "2.0.15", 77, {"error": 35, "warning": 7, "note": 35}, 7, 21, 21, ())]
    assert log.results_by_level == {"error": 35, "warning": 7, "note": 35, "none": 0}
    assert log.execution_failed is False


def test_grype(external: Path) -> None:
    log = parse_sarif(external, "grype-image.sarif")
    assert run_facts(log) == [("grype", "0.0.0-dev", 2, {"note": 1, "error": 1}, 0, 2, 2, ())]
    assert log.total_results == 2


def test_one_run_empty_results_is_a_clean_scan(external: Path) -> None:
    log = parse_sarif(external, "one-run-empty-results.sarif")
    assert run_facts(log) == [("CodeScanner", "1.0", 0, {}, 0, 0, 0, ())]
    assert log.runs[0].results_present is True
    assert log.execution_failed is False


def test_catastrophic_execution_error_is_not_a_clean_scan(external: Path) -> None:
    log = parse_sarif(external, "catastrophic-execution-error.sarif")
    assert log.total_results == 0
    assert log.runs[0].results_present is False
    assert log.runs[0].execution_successful == (False,)
    assert log.runs[0].execution_failed is True
    assert log.execution_failed is True


def test_error_notification_alone_marks_the_run_failed() -> None:
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "scanner"}},
                "results": [],
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": [{"level": "error", "message": {}}]}
                ],
            }
        ],
    }
    log = detect_and_parse("sarif", json.dumps(doc).encode())
    assert log.execution_failed is True


def test_effective_level_lookup_order() -> None:
    driver = {
        "name": "d",
        "rules": [{"id": "R0", "defaultConfiguration": {"level": "note"}}, {"id": "R1"}],
    }
    extensions = [{"name": "ext", "rules": [{"id": "X0", "defaultConfiguration": {"level": "error"}}]}]
    assert effective_level({"level": "none", "ruleIndex": 0}, driver, extensions) == "none"
    assert effective_level({"ruleIndex": 0}, driver, extensions) == "note"
    assert effective_level({"ruleId": "R0"}, driver, extensions) == "note"
    assert effective_level({"ruleId": "R0/sub"}, driver, extensions) == "note"
    assert effective_level({"ruleIndex": 1}, driver, extensions) == "warning"
    assert effective_level({"ruleId": "X0"}, driver, extensions) == "error"
    assert effective_level({"rule": {"index": 0, "toolComponent": {"index": 0}}}, driver, extensions) == "error"
    assert effective_level({"ruleId": "unknown"}, driver, extensions) == "warning"
    assert effective_level({}, driver, extensions) == "warning"


@pytest.mark.parametrize(
    ("doc", "code", "path"),
    [
        ({"version": "1.0.0", "runs": []}, "unsupported_spec_version", "/version"),
        ({"runs": []}, "invalid_document", "/version"),
        ({"version": "2.1.0", "runs": {}}, "invalid_document", "/runs"),
        ({"version": "2.1.0", "runs": [{"results": []}]}, "invalid_document", "/runs/0"),
        ({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, "invalid_document", "/runs/0/tool/driver"),
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [{}, {"level": "fatal"}]}]},
            "invalid_document",
            "/runs/0/results/1/level",
        ),
    ],
)
def test_bad_sarif_is_refused_with_a_pointer(doc: dict, code: str, path: str) -> None:
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sarif", json.dumps(doc).encode())
    assert (caught.value.code, caught.value.path) == (code, path)
