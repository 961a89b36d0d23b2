"""Labelled fleet scenarios: load one into a throw-away organisation, compute drift, score it (rf drift evaluate)."""

from .evaluate import ScenarioScore, scenario_evaluate
from .load import ScenarioError, scenario_parse

__all__ = ["ScenarioError", "ScenarioScore", "scenario_evaluate", "scenario_parse"]
