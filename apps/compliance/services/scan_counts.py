"""What a ScanSummary's ``counts`` JSON holds (see docs/compliance.md and ADR 018). No ORM.

SARIF: the top-level level keys (``error``/``warning``/``note``/``none``) are **open** results only - what the gate,
the badges, the reports and the packs count. Beside them: ``suppressed`` (by level), ``suppressions`` (each suppressed
result with its suppressions' kind, status and justification), ``baseline`` (results per ``baselineState``) and
``total`` (every result). InSpec: the control status keys count controls merged along the overlay chain; ``chain``
lists each root profile with the profiles it depends on and ``listed_controls`` the entries before merging.
"""

from __future__ import annotations

from ..parsers.results import CONTROL_STATUSES, SARIF_LEVELS, ParsedInspec, ParsedSarif


def sarif_counts(parsed: ParsedSarif) -> dict:
    """The stored summary of a SARIF log (open counts at the top level)."""
    return {
        **{level: int(parsed.results_by_level.get(level, 0)) for level in SARIF_LEVELS},
        "total": parsed.total_results,
        "suppressed": {level: int(parsed.suppressed_by_level.get(level, 0)) for level in SARIF_LEVELS},
        "suppressions": list(parsed.suppressions),
        "baseline": dict(parsed.baseline),
    }


def inspec_counts(parsed: ParsedInspec) -> dict:
    """The stored summary of an InSpec report (merged control statuses at the top level)."""
    return {
        **{status: int(parsed.control_status.get(status, 0)) for status in CONTROL_STATUSES},
        "chain": [list(chain) for chain in parsed.chain],
        "listed_controls": parsed.listed_controls,
    }


def open_levels(counts: dict) -> dict[str, int]:
    """Open SARIF results by level from a stored summary (older summaries hold only these keys)."""
    return {level: int(counts.get(level, 0) or 0) for level in SARIF_LEVELS}


def suppressed_total(counts: dict) -> int:
    """Suppressed SARIF results in a stored summary (0 for summaries stored before suppressions were read)."""
    suppressed = counts.get("suppressed") or {}
    return sum(int(suppressed.get(level, 0) or 0) for level in SARIF_LEVELS) if isinstance(suppressed, dict) else 0


def control_statuses(counts: dict) -> dict[str, int]:
    """InSpec control counts by status from a stored summary."""
    return {status: int(counts.get(status, 0) or 0) for status in CONTROL_STATUSES}
