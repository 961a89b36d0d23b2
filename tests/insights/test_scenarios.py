"""On every labelled insight scenario the top-ranked cause is the injected one, with the right machine count."""

from pathlib import Path

import pytest

from apps.drift.scenarios import ScenarioError, scenario_parse
from apps.insights.scenarios import insight_scenario_evaluate
from apps.tenancy.models import Organization

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "fleets" / "insights").glob("*.yaml"))

pytestmark = pytest.mark.django_db


def test_there_are_at_least_eight_scenarios_covering_every_cause():
    causes = {scenario_parse(p.read_bytes())["insight"]["cause"] for p in SCENARIOS}
    assert len(SCENARIOS) >= 8
    assert causes == {
        "template_pinned_old_image",
        "grace_ended",
        "revoked_version_running",
        "region_without_copy",
        "connector_scope_failing",
        "unregistered_image_spreading",
    }


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_top_cause_is_the_injected_one(path):
    score = insight_scenario_evaluate(scenario_parse(path.read_bytes()))
    assert score.mismatches == []
    top = score.top
    assert top["rank"] == 1 and top["evidence"] and top["remediation"]
    assert 0 < top["confidence"] <= 1
    assert sum(c["machines"] for c in score.causes) == sum(
        1
        for a in scenario_parse(path.read_bytes())["assets"]
        if a["expect"]["status"] in ("outdated", "unmanaged", "stale")
    )  # every drifted machine is explained exactly once
    assert Organization.objects.count() == 0  # rolled back


def test_pinned_template_evidence_names_the_group_template_and_image():
    path = next(p for p in SCENARIOS if p.stem == "pinned-launch-template")
    top = insight_scenario_evaluate(scenario_parse(path.read_bytes())).top
    assert top["evidence"]["group"] == "web-asg"
    assert top["evidence"]["template"] == "lt-0abc:3"
    assert top["evidence"]["template_image"] == "ami-0100eu"
    assert top["machine_ids"] == ["i-asg-1", "i-asg-2", "i-asg-3", "i-asg-4"]
    assert top["share_pct"] == 80.0


def test_grace_evidence_counts_days_since_promotion_and_grace_end():
    path = next(p for p in SCENARIOS if p.stem == "grace-ended")
    top = insight_scenario_evaluate(scenario_parse(path.read_bytes())).top
    assert (top["evidence"]["days_since_promotion"], top["evidence"]["days_since_grace_end"]) == (12, 5)
    assert top["evidence"]["baseline"] == "base@3.1.0"


def test_a_wrong_label_is_reported(tmp_path):
    path = next(p for p in SCENARIOS if p.stem == "grace-ended")
    scenario = scenario_parse(path.read_bytes())
    scenario["insight"] = {"cause": "grace_ended", "machines": 4}
    score = insight_scenario_evaluate(scenario)
    assert score.mismatches == ["top cause is grace_ended with 5 machine(s), expected grace_ended with 4"]


def test_a_scenario_without_an_injected_cause_is_refused():
    path = next(p for p in SCENARIOS if p.stem == "grace-ended")
    scenario = scenario_parse(path.read_bytes())
    del scenario["insight"]
    with pytest.raises(ScenarioError):
        insight_scenario_evaluate(scenario)


def test_an_unknown_key_in_an_insight_block_fails_the_schema():
    path = next(p for p in SCENARIOS if p.stem == "grace-ended")
    text = path.read_text().replace(
        "insight: {cause: grace_ended, machines: 5}", "insight: {cause: x, machines: 5, y: 1}"
    )
    with pytest.raises(ScenarioError, match="/insight"):
        scenario_parse(text)
