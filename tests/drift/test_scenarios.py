"""Every labelled fleet scenario scores 0 false positives and 0 false negatives, through `rf drift evaluate` too."""

from pathlib import Path

import pytest

from apps.drift.scenarios import ScenarioError, scenario_evaluate, scenario_parse
from apps.tenancy.models import Organization
from qlrf.cli import main

FLEETS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "fleets").glob("*.yaml"))
REGIONAL = next(p for p in FLEETS if p.stem == "regional-copies-canaries-grace")

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", FLEETS, ids=lambda p: p.stem)
def test_scenario_scores_zero_false_positives_and_negatives(path):
    score = scenario_evaluate(scenario_parse(path.read_bytes()))
    assert score.mismatches == []
    for status in ("compliant", "outdated", "unmanaged", "stale"):
        assert (score.false_positives(status), score.false_negatives(status)) == (0, 0)
    assert Organization.objects.count() == 0  # evaluated in a transaction that was rolled back


def test_report_numbers_match_the_hand_written_expectations():
    score = scenario_evaluate(scenario_parse(REGIONAL.read_bytes()))
    by_env = {r.environment: r for r in score.report.by_environment}
    prod = by_env["prod"]
    assert (
        prod.total_assets,
        prod.compliant_assets,
        prod.outdated_count,
        prod.unmanaged_count,
        prod.not_running_count,
    ) == (6, 3, 3, 0, 1)  # the stopped machine on an old image is outdated (and counted as not running)
    assert prod.coverage_pct == 50.0 and prod.rag == "red" and prod.oldest_drift_days == 13
    dev = by_env["dev"]
    assert (dev.compliant_assets, dev.outdated_count, dev.unmanaged_count, dev.coverage_pct) == (1, 1, 1, 33.33)
    assert by_env["staging"].coverage_pct == 100.0 and by_env["staging"].rag == "green"
    cells = {(r.environment, r.site): r for r in score.report.reports}
    outdated = cells[("prod", None)].outdated_assets
    assert sorted(a.instance_id for a in outdated) == ["i-prod-eu-old", "i-prod-stopped-old", "i-prod-us-old-copy"]
    assert {a.days_behind for a in outdated} == {13}


def test_an_organisation_may_leave_stopped_machines_out_of_coverage():
    scenario = scenario_parse(REGIONAL.read_bytes())
    scenario["coverage_excludes_not_running"] = True
    for asset in scenario["assets"]:
        if asset["id"] == "i-prod-stopped-old":
            asset["expect"] = {"status": "not_running"}
    score = scenario_evaluate(scenario)
    assert score.perfect, score.mismatches
    prod = {r.environment: r for r in score.report.by_environment}["prod"]
    counts = (prod.total_assets, prod.compliant_assets, prod.outdated_count, prod.unmanaged_count)
    assert counts + (prod.not_running_count,) == (6, 3, 2, 0, 1) and prod.coverage_pct == 60.0
    cells = {(r.environment, r.site): r for r in score.report.reports}
    assert sorted(a.instance_id for a in cells[("prod", None)].outdated_assets) == [
        "i-prod-eu-old",
        "i-prod-us-old-copy",
    ]


def test_rf_drift_evaluate_prints_the_matrix_and_exits_zero(capsys):
    assert main(["drift", "evaluate", *map(str, FLEETS)]) == 0
    out = capsys.readouterr().out
    assert out.count("false positives 0, false negatives 0") == 4 * len(FLEETS)


def test_a_wrong_label_makes_rf_drift_evaluate_fail(tmp_path, capsys):
    text = REGIONAL.read_text().replace(
        "expect: {status: compliant, version: web@1.1.0}", "expect: {status: outdated, version: web@1.1.0}", 1
    )
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    assert main(["drift", "evaluate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH i-prod-eu-current: expected outdated, computed compliant" in captured.err
    assert "1 machine(s) misclassified" in captured.err


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("name: x\nenvironments: [prod]\nfamilies: []\nassets: []\n", "/assets"),
        (
            "name: x\nenvironments: [prod]\nfamilies: [{family: a, versions: [{version: '1'}]}]\n"
            "assets: [{id: a, platform: ibm, account: x, environment: prod, image: {}, expect: {status: compliant}}]\n",
            "/assets/0/platform",
        ),
        ("name: [unclosed\n", ""),
    ],
)
def test_a_scenario_that_fails_its_schema_is_refused(text, path):
    with pytest.raises(ScenarioError) as excinfo:
        scenario_parse(text)
    assert excinfo.value.path == path
