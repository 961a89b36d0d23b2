"""Plain, frozen result types the parsers return; services persist them, nothing here touches the ORM."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

SARIF_LEVELS: tuple[str, ...] = ("error", "warning", "note", "none")
CONTROL_STATUSES: tuple[str, ...] = ("passed", "failed", "skipped", "not_applicable", "error", "no_results")
RESULT_STATUSES: tuple[str, ...] = ("passed", "failed", "skipped", "error")


@dataclass(frozen=True)
class PackageRecord:
    """One package/component entry of an SBOM, exactly as listed (no de-duplication)."""

    name: str
    version: str | None = None
    purl: str | None = None
    type: str | None = None  # CycloneDX component type; SPDX primary package purpose (lower case)
    license: str | None = None  # concluded licence if asserted, else declared; None for NOASSERTION
    supplier: str | None = None
    ref: str | None = None  # SPDX id / CycloneDX bom-ref

    @property
    def purl_type(self) -> str | None:
        """The purl type (`rpm`, `oci`, `apk`, ...) or None when the package has no purl."""
        if not self.purl or not self.purl.startswith("pkg:"):
            return None
        return self.purl[4:].split("/", 1)[0].lower() or None


@dataclass(frozen=True)
class ParsedSbom:
    """An SBOM reduced to what the portal stores: identity, every package entry and relationship counts."""

    format: Literal["spdx", "cyclonedx"]
    spec_version: str
    encoding: Literal["json", "tag-value", "xml", "json-ld"]
    name: str | None
    packages: tuple[PackageRecord, ...]
    relationships: dict[str, int]  # as declared in the document (SPDX relationships[] / lines; CycloneDX dependsOn)
    describes: tuple[str, ...]
    serial: str | None = None  # SPDX documentNamespace / CycloneDX serialNumber
    counts: dict[str, int] = field(default_factory=dict)  # format-specific totals (files, dependencies, ...)
    findings: tuple = ()  # ValidationFinding: deviations repaired or tolerated on import (parsers/findings.py)

    def purl_types(self) -> dict[str, int]:
        """Count packages by purl type (packages without a purl are not counted)."""
        return dict(Counter(p.purl_type for p in self.packages if p.purl_type))


@dataclass(frozen=True)
class SarifRun:
    """One SARIF run: its tool, effective-level counts and whether the tool actually ran to completion."""

    tool: str
    tool_version: str | None
    results: int
    levels: dict[str, int]
    level_missing: int
    rule_ids: frozenset[str]
    rules: int
    execution_successful: tuple[bool, ...]
    execution_failed: bool
    results_present: bool
    suppressed_levels: dict[str, int] = field(default_factory=dict)
    suppressions: tuple[dict, ...] = ()
    baseline: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedSarif:
    """A SARIF 2.1.0 log: per-run summaries plus totals by effective level and by tool."""

    version: str
    runs: tuple[SarifRun, ...]
    results_by_level: dict[str, int]
    by_tool: dict[str, dict[str, int]]
    rules: int
    execution_failed: bool
    suppressed_by_level: dict[str, int] = field(default_factory=dict)
    suppressions: tuple[dict, ...] = ()
    baseline: dict[str, int] = field(default_factory=dict)
    findings: tuple = ()  # ValidationFinding: deviations repaired or tolerated on import (parsers/findings.py)

    @property
    def open_results(self) -> int:
        """Results that are not suppressed (SARIF 2.1.0 section 3.27.23)."""
        return sum(self.results_by_level.values())

    @property
    def suppressed_results(self) -> int:
        """Results with an accepted suppression and none under review or rejected."""
        return sum(self.suppressed_by_level.values())

    @property
    def tools(self) -> tuple[str, ...]:
        """Tool driver names in run order (duplicates kept once)."""
        return tuple(dict.fromkeys(run.tool for run in self.runs))

    @property
    def total_results(self) -> int:
        """Number of results across all runs."""
        return sum(run.results for run in self.runs)


@dataclass(frozen=True)
class ControlResult:
    """One InSpec control with its derived status."""

    id: str
    title: str | None
    impact: float
    status: str
    profile: str
    results: int
    layers: tuple[str, ...] = ()  # profiles that list this control, top-most overlay first


@dataclass(frozen=True)
class ParsedInspec:
    """An InSpec JSON report: profiles, every control with its status, and status counts."""

    inspec_version: str | None
    platform: str | None
    profiles: tuple[str, ...]
    controls: tuple[ControlResult, ...]
    control_status: dict[str, int]
    result_status: dict[str, int]
    chain: tuple[tuple[str, ...], ...] = ()  # each root profile followed by the profiles it depends on
    listed_controls: int = 0  # control entries across every profile layer, before merging by id
