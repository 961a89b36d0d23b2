"""SARIF 2.1.0 scan logs: minimal structural validation, then effective levels per SARIF section 3.27.10.

A result is open unless it is suppressed (section 3.27.23): at least one of its ``suppressions`` is accepted (a
suppression without ``status`` is accepted, section 3.35.3) and none is ``underReview`` or ``rejected`` - the rule the
SARIF SDK applies (``Result.TryIsSuppressed``). Suppressed results are counted apart and listed with their kind, status
and justification; ``baselineState`` (section 3.27.24) is counted per state over every result.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .findings import ValidationFinding
from .results import SARIF_LEVELS, ParsedSarif, SarifRun

SUPPORTED_VERSION = "2.1.0"
SUPPRESSION_KINDS = ("inSource", "external")
SUPPRESSION_STATUSES = ("accepted", "underReview", "rejected")
BASELINE_STATES = ("new", "unchanged", "updated", "absent")
MAX_LISTED_SUPPRESSIONS = 200  # the summary lists at most this many suppressed results (all are counted)
_LEVEL = {"enum": list(SARIF_LEVELS)}
_COMPONENT = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "defaultConfiguration": {"type": "object", "properties": {"level": _LEVEL}},
                },
            },
        },
    },
}
# Only what the level computation relies on is checked; the full OASIS schema is far stricter than real tools are.
SARIF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {"driver": _COMPONENT, "extensions": {"type": "array", "items": _COMPONENT}},
                    },
                    "results": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "level": _LEVEL,
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "rule": {"type": "object"},
                                "suppressions": {
                                    "type": ["array", "null"],
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "kind": {"enum": list(SUPPRESSION_KINDS)},
                                            "status": {"enum": list(SUPPRESSION_STATUSES)},
                                            "justification": {"type": "string"},
                                        },
                                    },
                                },
                                "baselineState": {"enum": list(BASELINE_STATES)},
                            },
                        },
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "toolExecutionNotifications": {
                                    "type": "array",
                                    "items": {"type": "object", "properties": {"level": _LEVEL}},
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}
_VALIDATOR = Draft202012Validator(SARIF_SCHEMA)
UNNAMED_TOOL = "unknown"


@register_parser("sarif", "sarif")
class SarifParser:
    """SARIF logs (`runs` at the root, or a SARIF `$schema`)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a JSON object with `runs` or a `$schema` mentioning sarif."""
        if doc.syntax != "json" or not isinstance(doc.json, dict):
            return False
        return "runs" in doc.json or "sarif" in str(doc.json.get("$schema", "")).lower()

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSarif:
        """Check the version and structure, then summarise every run."""
        root = require_object(doc, "SARIF")
        version = root.get("version")
        if version != SUPPORTED_VERSION:
            detail = f"SARIF version {version!r} is not supported (only {SUPPORTED_VERSION})"
            code = "unsupported_spec_version" if isinstance(version, str) else "invalid_document"
            raise DocumentError(code, detail, "/version")
        findings = _name_unnamed_tools(root)
        error = best_match(_VALIDATOR.iter_errors(root))
        if error is not None:
            raise DocumentError("invalid_document", error.message[:500], json_pointer(error.absolute_path))
        runs = tuple(_summarise_run(run) for run in root["runs"])
        by_level: Counter[str] = Counter(dict.fromkeys(SARIF_LEVELS, 0))
        suppressed: Counter[str] = Counter(dict.fromkeys(SARIF_LEVELS, 0))
        baseline: Counter[str] = Counter()
        by_tool: dict[str, Counter[str]] = {}
        for run in runs:
            by_level.update(run.levels)
            suppressed.update(run.suppressed_levels)
            baseline.update(run.baseline)
            by_tool.setdefault(run.tool, Counter(dict.fromkeys(SARIF_LEVELS, 0))).update(run.levels)
        return ParsedSarif(
            version=version,
            runs=runs,
            results_by_level=dict(by_level),
            by_tool={tool: dict(levels) for tool, levels in by_tool.items()},
            rules=sum(run.rules for run in runs),
            execution_failed=any(run.execution_failed for run in runs),
            suppressed_by_level=dict(suppressed),
            suppressions=tuple(item for run in runs for item in run.suppressions)[:MAX_LISTED_SUPPRESSIONS],
            baseline={state: baseline[state] for state in BASELINE_STATES if baseline[state]},
            findings=tuple(findings),
        )


def _name_unnamed_tools(root: dict[str, Any]) -> list[ValidationFinding]:
    """A run whose ``tool.driver.name`` is null (seen from CodeQL) is read as tool "unknown", with a finding."""
    findings = []
    for index, run in enumerate(root.get("runs") if isinstance(root.get("runs"), list) else []):
        driver = (
            run.get("tool", {}).get("driver") if isinstance(run, dict) and isinstance(run.get("tool"), dict) else None
        )
        if isinstance(driver, dict) and "name" in driver and driver["name"] is None:
            driver["name"] = UNNAMED_TOOL
            path = json_pointer(["runs", index, "tool", "driver", "name"])
            message = f"run {index} names no tool (driver.name is null, required); read as {UNNAMED_TOOL!r}"
            findings.append(ValidationFinding(path, "null-tool-name", message))
    return findings


def _summarise_run(run: dict[str, Any]) -> SarifRun:
    driver = run["tool"]["driver"]
    extensions = run["tool"].get("extensions") or []
    results = run.get("results")
    levels: Counter[str] = Counter()
    suppressed_levels: Counter[str] = Counter()
    suppressions: list[dict] = []
    for result in results or []:
        level = effective_level(result, driver, extensions)
        if is_suppressed(result):
            suppressed_levels[level] += 1
            if len(suppressions) < MAX_LISTED_SUPPRESSIONS:
                suppressions.append(_suppression_entry(result, level, driver["name"]))
        else:
            levels[level] += 1
    baseline = Counter(r["baselineState"] for r in results or [] if r.get("baselineState") in BASELINE_STATES)
    invocations = run.get("invocations") or []
    successful = tuple(inv["executionSuccessful"] for inv in invocations if "executionSuccessful" in inv)
    notified_error = any(
        note.get("level") == "error" for inv in invocations for note in inv.get("toolExecutionNotifications") or []
    )
    return SarifRun(
        tool=driver["name"],
        tool_version=driver.get("version") or driver.get("semanticVersion"),
        results=len(results or []),
        levels=dict(levels),
        level_missing=sum(1 for result in results or [] if "level" not in result),
        rule_ids=frozenset(result["ruleId"] for result in results or [] if "ruleId" in result),
        rules=len(driver.get("rules") or []) + sum(len(ext.get("rules") or []) for ext in extensions),
        execution_successful=successful,
        execution_failed=(False in successful) or notified_error,
        results_present=isinstance(results, list),
        suppressed_levels=dict(suppressed_levels),
        suppressions=tuple(suppressions),
        baseline=dict(baseline),
    )


def is_suppressed(result: dict[str, Any]) -> bool:
    """Accepted (or status-less) suppression present and none under review or rejected (sections 3.27.23, 3.35.3)."""
    statuses = [item.get("status", "accepted") for item in result.get("suppressions") or []]
    if not statuses:
        return False
    return "accepted" in statuses and not ({"underReview", "rejected"} & set(statuses))


def _suppression_entry(result: dict[str, Any], level: str, tool: str) -> dict[str, Any]:
    """What the summary keeps of one suppressed result: rule, level, and each suppression's kind/status/reason."""
    message = (result.get("message") or {}).get("text")
    return {
        "tool": tool,
        "rule_id": result.get("ruleId") or (result.get("rule") or {}).get("id"),
        "level": level,
        "message": message[:300] if isinstance(message, str) else None,
        "suppressions": [
            {
                "kind": item.get("kind"),
                "status": item.get("status", "accepted"),
                "justification": (item.get("justification") or "")[:500],
            }
            for item in result.get("suppressions") or []
        ],
    }


def effective_level(result: dict[str, Any], driver: dict[str, Any], extensions: list[dict[str, Any]]) -> str:
    """result.level, else the rule's defaultConfiguration.level, else "warning" (SARIF 2.1.0 section 3.27.10)."""
    if "level" in result:
        return result["level"]
    rule = _find_rule(result, driver, extensions)
    level = ((rule or {}).get("defaultConfiguration") or {}).get("level")
    return level if level in SARIF_LEVELS else "warning"


def _find_rule(result: dict[str, Any], driver: dict[str, Any], extensions: list[dict[str, Any]]) -> dict | None:
    """Resolve the result's rule by index (in the component named by rule.toolComponent) or by id."""
    reference = result.get("rule") or {}
    component = _component(reference.get("toolComponent"), driver, extensions)
    index = reference.get("index", result.get("ruleIndex", -1))
    rules = component.get("rules") or []
    if isinstance(index, int) and 0 <= index < len(rules):
        return rules[index]
    rule_id = reference.get("id", result.get("ruleId"))
    if not isinstance(rule_id, str):
        return None
    candidates = [component, driver, *extensions]
    for wanted in (rule_id, rule_id.split("/", 1)[0]):  # hierarchical ids "a/b" fall back to "a" (3.27.5)
        for comp in candidates:
            for rule in comp.get("rules") or []:
                if rule.get("id") == wanted:
                    return rule
    return None


def _component(reference: Any, driver: dict[str, Any], extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """The tool component a rule reference points at (driver unless an extension is named)."""
    if not isinstance(reference, dict):
        return driver
    index = reference.get("index")
    if isinstance(index, int) and 0 <= index < len(extensions):
        return extensions[index]
    for ext in extensions:
        if reference.get("guid") and ext.get("guid") == reference["guid"]:
            return ext
        if reference.get("name") and ext.get("name") == reference["name"]:
            return ext
    return driver
