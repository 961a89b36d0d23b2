"""Score a scenario: every machine's computed status and days behind against its label; a confusion matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from ..choices import NOT_RUNNING_STATES
from ..engine import drift_evaluate, fleet_at
from ..reports import build_report_set, live_cells
from .load import scenario_load

STATUSES = ("compliant", "outdated", "unmanaged", "stale", "not_running", "absent")


@dataclass
class ScenarioScore:
    name: str
    total: int
    confusion: dict[str, Counter] = field(default_factory=dict)  # expected → Counter(computed)
    mismatches: list[str] = field(default_factory=list)
    report: object = None

    def false_positives(self, status: str) -> int:
        return sum(c[status] for expected, c in self.confusion.items() if expected != status)

    def false_negatives(self, status: str) -> int:
        return sum(n for computed, n in self.confusion.get(status, Counter()).items() if computed != status)

    @property
    def perfect(self) -> bool:
        return not self.mismatches


def _computed(organization):
    """(instance id → (status, days behind, version), instance id → running, the evaluation) for the scenario."""
    evaluation = drift_evaluate(organization)
    results: dict[str, tuple[str, int | None, str | None]] = {}
    running: dict[str, bool] = {}
    for asset in fleet_at(organization, evaluation.at).select_related("image_version__family"):
        running[asset.instance_id] = asset.state not in NOT_RUNNING_STATES
        version = str(asset.image_version) if asset.image_version else None
        if asset.state in NOT_RUNNING_STATES and organization.coverage_excludes_not_running:
            results[asset.instance_id] = ("not_running", None, version)
        elif asset.stale:
            results[asset.instance_id] = ("stale", None, version)
        elif asset.image_version_id is None:
            results[asset.instance_id] = ("unmanaged", None, None)
        else:
            verdict = evaluation.verdicts[(asset.environment_id, asset.image_version_id)]
            days = None if verdict.compliant else (evaluation.at - verdict.outdated_since).days
            results[asset.instance_id] = ("compliant" if verdict.compliant else "outdated", days, version)
    return results, running, evaluation


def scenario_evaluate(scenario: dict) -> ScenarioScore:
    """Load, compute, score — inside a transaction that is rolled back: nothing of the scenario remains."""
    with transaction.atomic():
        organization = scenario_load(scenario)
        computed, running, evaluation = _computed(organization)
        cells, outdated = live_cells(organization, evaluation)
        report = build_report_set(organization, cells, evaluation.at, source="live", outdated_by_cell=outdated)
        transaction.set_rollback(True)
    score = ScenarioScore(name=scenario["name"], total=len(scenario["assets"]), report=report)
    for asset in scenario["assets"]:
        expect = asset["expect"]
        status, days, version = computed.get(asset["id"], ("absent", None, None))
        score.confusion.setdefault(expect["status"], Counter())[status] += 1
        if status != expect["status"]:
            score.mismatches.append(f"{asset['id']}: expected {expect['status']}, computed {status}")
        elif "days_behind" in expect and days != expect["days_behind"]:
            score.mismatches.append(f"{asset['id']}: expected {expect['days_behind']} days behind, computed {days}")
        elif "version" in expect and version != expect["version"]:
            score.mismatches.append(f"{asset['id']}: expected version {expect['version']}, computed {version}")
        elif "running" in expect and running.get(asset["id"]) != expect["running"]:
            score.mismatches.append(
                f"{asset['id']}: expected running {expect['running']}, computed {running.get(asset['id'])}"
            )
    return score
