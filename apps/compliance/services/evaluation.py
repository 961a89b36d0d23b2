"""Checks of a version's evidence against its contract, shared by the deploy gate and the badges. No ORM.

SARIF has no severity scale, only levels. Trivy and Grype write CRITICAL and HIGH findings as ``error``, MEDIUM as
``warning`` and LOW as ``note``; without a ``security-severity`` a critical cannot be told from a high. So every
``error`` counts as critical (the strict reading) and also against ``max_high`` (critical-or-high), ``warning`` as
medium and ``note`` as low. ``max_findings`` counts every open result: suppressed results (an accepted SARIF
suppression, see ADR 018) are listed with the summary but never counted here. A run whose tool reported
``executionSuccessful: false`` is never a clean scan, whatever its counts.

CIS pass rate (InSpec): passed controls / (all controls − not applicable) × 100. Skipped, errored and empty
controls count as not passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scan_counts import control_statuses, open_levels

LEVEL_SEVERITY = {"critical": ("error",), "high": ("error",), "medium": ("warning",), "low": ("note",)}


@dataclass(frozen=True)
class ScanCheck:
    """The outcome of one contract scan against the latest matching summary (``summary`` None when missing)."""

    scan: dict
    summary: object | None
    failures: tuple[str, ...]
    pass_percent: float | None = None

    @property
    def missing(self) -> bool:
        return self.summary is None

    @property
    def execution_failed(self) -> bool:
        return bool(self.summary is not None and self.summary.execution_failed)


def contract_scans(contract: dict) -> list[dict]:
    """The scans a version's contract requires (``supply_chain.scans``)."""
    return list(((contract or {}).get("supply_chain") or {}).get("scans") or [])


def matching_summary(scan: dict, summaries: list) -> object | None:
    """The newest summary for a contract scan: InSpec reports for ``report_format: inspec``, else by tool name."""
    tool = (scan.get("tool") or "").lower()
    for summary in summaries:  # newest first
        if scan.get("report_format") == "inspec" or scan.get("type") == "cis":
            if summary.kind == "inspec":
                return summary
        elif summary.kind == "sarif" and tool and tool in summary.tool.lower():
            return summary
    return None


def severity_counts(levels: dict) -> dict[str, int]:
    """Open SARIF level counts mapped to severities (see the module docstring)."""
    levels = open_levels(levels)
    counts = {severity: sum(int(levels.get(lvl, 0)) for lvl in lvls) for severity, lvls in LEVEL_SEVERITY.items()}
    counts["findings"] = sum(int(value) for value in levels.values())
    return counts


def cis_pass_percent(statuses: dict) -> float | None:
    """Passed / applicable controls × 100, rounded to 0.1; None when no control applies."""
    statuses = control_statuses(statuses)
    applicable = sum(int(v) for k, v in statuses.items() if k != "not_applicable")
    if applicable == 0:
        return None
    return round(100.0 * int(statuses.get("passed", 0)) / applicable, 1)


def check_scan(scan: dict, summaries: list) -> ScanCheck:
    """Compare one contract scan with its newest summary; ``failures`` are readable threshold breaches."""
    summary = matching_summary(scan, summaries)
    if summary is None:
        return ScanCheck(scan, None, ())
    thresholds = scan.get("thresholds") or {}
    if summary.kind == "inspec":
        percent = cis_pass_percent(summary.counts)
        minimum = thresholds.get("min_pass_percent")
        failures = []
        if minimum is not None and (percent is None or percent < minimum):
            failures.append(f"CIS pass rate {_pct(percent)} is below {minimum}%")
        return ScanCheck(scan, summary, tuple(failures), percent)
    counts = severity_counts(summary.counts)
    failures = []
    for key, label in (("critical", "critical"), ("high", "high"), ("medium", "medium"), ("low", "low")):
        limit = thresholds.get(f"max_{key}")
        if limit is not None and counts[key] > limit:
            failures.append(f"{counts[key]} {label} (SARIF {'/'.join(LEVEL_SEVERITY[key])}) > max {limit}")
    limit = thresholds.get("max_findings")
    if limit is not None and counts["findings"] > limit:
        failures.append(f"{counts['findings']} findings > max {limit}")
    return ScanCheck(scan, summary, tuple(failures))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}%"
