"""Semantic contract rules that JSON Schema cannot express: expiries against today, conflicts, orderings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from apps.images.contract_schema import line_for
from apps.images.contract_types import ContractFault

SEVERITY_ORDER = ("critical", "high", "medium", "low")
Rule = Callable[[dict[str, Any], dict[str, int], date], Iterator[ContractFault]]


def semantic_faults(document: dict[str, Any], lines: dict[str, int], today: date) -> list[ContractFault]:
    """Run every semantic rule; rules skip parts whose shape is wrong (the schema reports those)."""
    faults: list[ContractFault] = []
    for rule in RULES:
        faults.extend(rule(document, lines, today))
    return faults


def _get(document: Any, *path: str) -> Any:
    current = document
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _fault(pointer: str, lines: dict[str, int], message: str, code: str) -> ContractFault:
    return ContractFault(pointer=pointer, line=line_for(pointer, lines), message=message, code=code)


def expired_exceptions(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """A CIS exception whose expiry date is before today no longer excuses its control."""
    for index, exception in enumerate(_list(_get(document, "hardening", "cis", "exceptions"))):
        expiry = exception.get("expiry") if isinstance(exception, dict) else None
        try:
            expires = date.fromisoformat(expiry) if isinstance(expiry, str) and len(expiry) == 10 else None
        except ValueError:
            expires = None
        if expires is not None and expires < today:
            control = exception.get("control", "?")
            message = f"exception for CIS control {control} expired on {expiry} (today is {today.isoformat()})"
            yield _fault(f"/hardening/cis/exceptions/{index}/expiry", lines, message, "expired_exception")


def duplicate_exceptions(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """Each CIS control has at most one exception entry."""
    seen: dict[str, int] = {}
    for index, exception in enumerate(_list(_get(document, "hardening", "cis", "exceptions"))):
        control = exception.get("control") if isinstance(exception, dict) else None
        if not isinstance(control, str):
            continue
        if control in seen:
            message = f"CIS control {control} already has an exception (entry {seen[control]})"
            yield _fault(f"/hardening/cis/exceptions/{index}/control", lines, message, "duplicate_exception")
        else:
            seen[control] = index


def _conflicts(
    document: dict[str, Any], lines: dict[str, int], section: str, keep: str, drop: str, code: str
) -> Iterator[ContractFault]:
    wanted = {name for name in _list(_get(document, section, keep)) if isinstance(name, str)}
    for index, name in enumerate(_list(_get(document, section, drop))):
        if isinstance(name, str) and name in wanted:
            message = f"{name!r} is listed in both {section}.{keep} and {section}.{drop}"
            yield _fault(f"/{section}/{drop}/{index}", lines, message, code)


def package_conflicts(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """A package (Linux) or feature (Windows) cannot be both required and forbidden."""
    yield from _conflicts(document, lines, "packages", "required", "forbidden", "package_conflict")
    yield from _conflicts(document, lines, "features", "required", "forbidden", "package_conflict")


def service_conflicts(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """A service cannot be both enabled and disabled."""
    yield from _conflicts(document, lines, "services", "enabled", "disabled", "service_conflict")


def sla_order(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """A more severe finding is never allowed to wait longer than a less severe one."""
    days = _get(document, "patch_sla", "max_days_behind")
    if not isinstance(days, dict):
        return
    previous: tuple[str, int] | None = None
    for severity in SEVERITY_ORDER:
        value = days.get(severity)
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if previous is not None and value < previous[1]:
            message = f"{severity} allows {value} days, fewer than {previous[0]} ({previous[1]} days)"
            yield _fault(f"/patch_sla/max_days_behind/{severity}", lines, message, "sla_order")
        previous = (severity, value)


def duplicate_asr_rules(document: dict[str, Any], lines: dict[str, int], today: date) -> Iterator[ContractFault]:
    """Each Defender ASR rule GUID is configured once (GUIDs compare case-insensitively)."""
    seen: set[str] = set()
    for index, rule in enumerate(_list(_get(document, "defender", "asr_rules"))):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id.lower() in seen:
            message = f"ASR rule {rule_id} is configured more than once"
            yield _fault(f"/defender/asr_rules/{index}/id", lines, message, "duplicate_asr_rule")
        seen.add(rule_id.lower())


RULES: tuple[Rule, ...] = (
    expired_exceptions,
    duplicate_exceptions,
    package_conflicts,
    service_conflicts,
    sla_order,
    duplicate_asr_rules,
)
