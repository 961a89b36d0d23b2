"""Chef InSpec `--reporter json` reports: per-control status the way Heimdall derives it.

Overlay profiles: a wrapper that ``depends`` on a base profile is reported with the base as a further entry of
``profiles[]`` (``parent_profile`` names the wrapper), and a control the wrapper includes or overrides is listed once
per layer. Controls are merged by id along each dependency chain, as InSpec and Heimdall show them: the top-most
layer's title and impact win, and the results are those of the top-most layer that has any (InSpec attaches the run's
results to one copy; the others are empty), so a control the wrapper skipped stays skipped.
"""

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
        chains = profile_chains(root["profiles"])
        merged = _merge(root["profiles"], chains)
        controls = tuple(_control(layers) for layers in merged)
        statuses = Counter(result["status"] for layers in merged for result in _results(layers))
        platform = root.get("platform") or {}
        return ParsedInspec(
            inspec_version=root.get("version"),
            platform=" ".join(str(platform[k]) for k in ("name", "release") if platform.get(k)) or None,
            profiles=tuple(profile["name"] for profile in root["profiles"]),
            controls=controls,
            control_status={s: sum(1 for c in controls if c.status == s) for s in CONTROL_STATUSES},
            result_status={s: statuses.get(s, 0) for s in RESULT_STATUSES},
            chain=tuple(tuple(chain) for chain in chains),
            listed_controls=sum(len(profile["controls"]) for profile in root["profiles"]),
        )


def profile_chains(profiles: list[dict[str, Any]]) -> list[list[str]]:
    """Each root profile followed by the profiles it depends on, breadth first (``parent_profile`` / ``depends``)."""
    names = [profile["name"] for profile in profiles]
    parent: dict[str, str] = {}
    for profile in profiles:
        for dep in profile.get("depends") or []:
            if isinstance(dep, dict) and dep.get("name") in names and dep["name"] != profile["name"]:
                parent.setdefault(dep["name"], profile["name"])
    for profile in profiles:
        named = profile.get("parent_profile")
        if isinstance(named, str) and named in names and named != profile["name"]:
            parent[profile["name"]] = named
    children: dict[str, list[str]] = {}
    for child, up in parent.items():
        children.setdefault(up, []).append(child)
    chains, seen = [], set()
    for name in names:
        if name in parent and _reaches_root(name, parent):
            continue
        chain, queue = [], [name]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            chain.append(current)
            queue.extend(sorted(children.get(current, []), key=names.index))
        if chain:
            chains.append(chain)
    return chains


def _reaches_root(name: str, parent: dict[str, str]) -> bool:
    """True when following parent links from ``name`` ends at a profile without a parent (no cycle)."""
    visited = {name}
    while name in parent:
        name = parent[name]
        if name in visited:
            return False
        visited.add(name)
    return True


def _merge(profiles: list[dict[str, Any]], chains: list[list[str]]) -> list[list[tuple[str, dict]]]:
    """Controls grouped by (chain, id), each group ordered top-most layer first."""
    by_name: dict[str, list[dict]] = {}
    for profile in profiles:
        by_name.setdefault(profile["name"], []).extend(profile["controls"])
    groups: list[list[tuple[str, dict]]] = []
    for chain in chains:
        index: dict[str, list[tuple[str, dict]]] = {}
        for name in chain:
            for control in by_name.get(name, []):
                if control["id"] not in index:
                    index[control["id"]] = []
                    groups.append(index[control["id"]])
                index[control["id"]].append((name, control))
    return groups


def _results(layers: list[tuple[str, dict]]) -> list[dict]:
    """The results of the top-most layer that has any."""
    for _name, control in layers:
        if control["results"]:
            return control["results"]
    return []


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


def _control(layers: list[tuple[str, dict]]) -> ControlResult:
    profile, top = layers[0]
    statuses = [result["status"] for result in _results(layers)]
    return ControlResult(
        id=top["id"],
        title=top.get("title") or next((c.get("title") for _n, c in layers if c.get("title")), None),
        impact=float(top["impact"]),
        status=control_status(top["impact"], statuses),
        profile=profile,
        results=len(statuses),
        layers=tuple(name for name, _control in layers),
    )
