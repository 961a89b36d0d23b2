"""Validation findings: a document's minor deviations, repaired or tolerated on import and listed with it (issue #14).

Real tools write documents that are not strictly valid — Trivy's SPDX tag-value without ``PackageDownloadLocation``,
distribution SBOMs with licence ids that are not on the SPDX list (``GPLv2+``), a SARIF run whose ``driver.name`` is
null. Where the document is well-formed and its meaning clear, it is imported and each deviation is recorded as a
finding (path, rule, message); an organisation in strict mode refuses such documents instead
(``Organization.strict_documents``). Malformed, truncated, unsupported and meaning-changing faults are refused in any
mode (they raise ``DocumentError``, never a finding).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

MAX_FINDINGS = 1000  # kept per document; the count is always the true total


@dataclass(frozen=True)
class ValidationFinding:
    path: str  # JSON pointer, or "line N" for text formats
    rule: str  # stable: missing-download-location, unknown-license-id, null-tool-name
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "message": self.message}


@functools.lru_cache(maxsize=4096)
def unknown_license_ids(expression: str) -> tuple[str, ...]:
    """Licence ids in an SPDX expression that are not on the SPDX licence list (``LicenseRef-`` ids are allowed)."""
    info = _licensing().validate(expression)  # reports, never raises
    if info.errors and not info.invalid_symbols:
        return (expression,)  # not an expression at all: reported whole
    return tuple(
        str(symbol) for symbol in info.invalid_symbols if not str(symbol).startswith(("LicenseRef-", "DocumentRef-"))
    )


@functools.cache
def _licensing():
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def license_findings(packages: Iterable, *, path_of) -> list[ValidationFinding]:
    """One finding per package whose licence names an id that is not an SPDX licence id."""
    findings = []
    for index, package in enumerate(packages):
        if not package.license:
            continue
        unknown = unknown_license_ids(package.license)
        if unknown:
            ids = ", ".join(unknown)
            findings.append(
                ValidationFinding(
                    path_of(index),
                    "unknown-license-id",
                    f"package {package.name!r}: {ids} is not an SPDX licence id (kept as written)",
                )
            )
    return findings
