"""Chef InSpec `--reporter json` reports: per-control status the way Heimdall derives it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .results import CONTROL_STATUSES, RESULT_STATUSES, ControlResult, ParsedInspec

INSPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["profiles"],
    "properties": {
        "version": {"type": "string"},
        "platform": {"type": "object"},
        "profiles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "controls"],
                "properties": {
                    "name": {"type": "string"},
                    "controls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "impact", "results"],
                            "properties": {
                                "id": {"type": "string"},
                                "title": {"type": ["string", "null"]},
                                "impact": {"type": "number", "minimum": 0, "maximum": 1},
                                "results": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["status"],
                                        "properties": {"status": {"enum": list(RESULT_STATUSES)}},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(INSPEC_SCHEMA)


@register_parser("inspec", "inspec-json")
class InspecJsonParser:
    """InSpec JSON reports (`profiles[]` plus `platform`/`statistics`/`version` at the root)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a JSON object with `profiles` and one of the report's other root keys."""
        if doc.syntax != "json" or not isinstance(doc.json, dict) or "profiles" not in doc.json:
            return False
        return any(key in doc.json for key in ("platform", "statistics", "version"))

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedInspec:
        """Validate structure, then derive each control's status from its results and impact."""
        root = require_object(doc, "InSpec")
        error = best_match(_VALIDATOR.iter_errors(root))
        if error is not None:
            raise DocumentError("invalid_document", error.message[:500], json_pointer(error.absolute_path))
        controls = tuple(
            _control(control, profile["name"]) for profile in root["profiles"] for control in profile["controls"]
        )
        statuses = Counter(result["status"] for p in root["profiles"] for c in p["controls"] for result in c["results"])
        platform = root.get("platform") or {}
        return ParsedInspec(
            inspec_version=root.get("version"),
            platform=" ".join(str(platform[k]) for k in ("name", "release") if platform.get(k)) or None,
            profiles=tuple(profile["name"] for profile in root["profiles"]),
            controls=controls,
            control_status={s: sum(1 for c in controls if c.status == s) for s in CONTROL_STATUSES},
            result_status={s: statuses.get(s, 0) for s in RESULT_STATUSES},
        )


def control_status(impact: float, result_statuses: list[str]) -> str:
    """error > not_applicable (impact 0) > failed > passed > skipped > no_results."""
    present = set(result_statuses)
    if "error" in present:
        return "error"
    if impact == 0:
        return "not_applicable"
    for status in ("failed", "passed", "skipped"):
        if status in present:
            return status
    return "no_results"


def _control(control: dict[str, Any], profile: str) -> ControlResult:
    statuses = [result["status"] for result in control["results"]]
    return ControlResult(
        id=control["id"],
        title=control.get("title"),
        impact=float(control["impact"]),
        status=control_status(control["impact"], statuses),
        profile=profile,
        results=len(statuses),
    )
