"""The deterministic narrative: the template's sentences filled from the facts and causes, nothing else."""

from __future__ import annotations

from .narratives import template


class _Blank(dict):
    def __missing__(self, key):
        return "unknown"


def scope_label(facts: dict) -> str:
    scope = facts["scope"]
    parts = [facts["organization"]]
    names = (("environment", "env"), ("site", "site"), ("platform", "platform"))
    parts += [f"{name} {scope[key]}" for key, name in names if scope.get(key)]
    if scope.get("as_of"):
        parts.append(f"as of {scope['as_of'][:10]}")
    return " ".join(parts)


def _fields(cause: dict) -> dict:
    fields = _Blank({k: v for k, v in cause["evidence"].items() if v is not None})
    for key, value in list(fields.items()):
        if isinstance(value, list):
            fields[key] = ", ".join(str(v) for v in value) or "none"
    if cause["evidence"].get("revoked_at"):
        fields["revoked_on"] = cause["evidence"]["revoked_at"][:10]
    return fields


def render(facts: dict, causes: list[dict], name: str | None = None) -> tuple[str, str, dict]:
    """(explanation, risk summary, template) for the facts and ranked causes."""
    spec = template(name) if name else template()
    totals = facts["totals"]
    coverage = "n/a" if totals.get("coverage_pct") is None else f"{totals['coverage_pct']}%"
    common = {"scope": scope_label(facts), "total": totals.get("total", 0), "coverage": coverage,
              "drifted": len(facts["machines"])}  # fmt: skip
    lines = [(spec["headline"] if causes else spec["quiet"]).format_map(_Blank(common))]
    for cause in causes:
        sentence = spec["causes"][cause["kind"]].format_map(_fields(cause))
        lines.append(spec["cause"].format_map(_Blank({**cause, "sentence": sentence})))
    revoked = sum(c["machines"] for c in causes if c["kind"] == "revoked_version_running")
    risk = spec["risk"]["summary" if causes else "none"].format_map(
        _Blank(
            {
                **common,
                "revoked": revoked,
                "outdated": totals.get("outdated", 0),
                "unmanaged": totals.get("unmanaged", 0),
                "stale": totals.get("stale", 0),
            }
        )  # fmt: skip
    )
    return "\n".join(lines), risk, spec
