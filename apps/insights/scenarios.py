"""Labelled insight scenarios (fixtures/fleets/insights/*.yaml): a drift fleet scenario with one injected root cause
(``insight: {cause, machines}``); the top-ranked cause must be it, explaining exactly that many machines."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from apps.drift.scenarios.load import ScenarioError, scenario_load

from .causes import rank_causes
from .facts import gather_facts
from .scope import InsightScope


@dataclass
class InsightScore:
    name: str
    expected: dict
    causes: list[dict] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def top(self) -> dict | None:
        return self.causes[0] if self.causes else None


def insight_scenario_evaluate(scenario: dict) -> InsightScore:
    """Load the scenario (rolled back afterwards), rank the causes of the whole organisation, compare."""
    if "insight" not in scenario:
        raise ScenarioError("an insight scenario names its injected cause under insight: {cause, machines}")
    with transaction.atomic():
        organization = scenario_load(scenario)
        facts = gather_facts(organization, InsightScope())
        transaction.set_rollback(True)
    score = InsightScore(scenario["name"], scenario["insight"], rank_causes(facts))
    computed = {m["instance_id"]: m["status"] for m in facts["machines"]}
    for asset in scenario["assets"]:
        expected = asset["expect"]["status"]
        status = computed.get(asset["id"], "compliant")
        if expected in ("outdated", "unmanaged", "stale") and status != expected:
            score.mismatches.append(f"{asset['id']}: expected {expected}, the facts say {status}")
    top = score.top
    if top is None:
        score.mismatches.append("no cause found")
    elif (top["kind"], top["machines"]) != (score.expected["cause"], score.expected["machines"]):
        score.mismatches.append(
            f"top cause is {top['kind']} with {top['machines']} machine(s), "
            f"expected {score.expected['cause']} with {score.expected['machines']}"
        )
    return score
