"""Status badges of a version (CIS, SLSA, Signed, SBOM, Vulnerabilities) and their public SVG form.

The SVG URL ``…/badges/<org>/<family>/<version>/<badge>.svg?key=<k>`` needs no login (a README image is fetched
anonymously) but carries ``k``, an HMAC of the badge's identity under the project's SECRET_KEY. Without the right
key every path, existing or not, is the same 404, so nobody can probe another organisation's versions; with it, the
SVG shows only the badge (name, status, label). Members get the URL from ``GET /api/v1/images/<pk>/badges``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from .choices import BadgeStatusChoices as S
from .choices import VerificationResultChoices
from .services.evaluation import check_scan, contract_scans

BADGES = ("cis", "slsa", "signed", "sbom", "vulnerabilities")
TITLES = {"cis": "CIS", "slsa": "SLSA", "signed": "signed", "sbom": "SBOM", "vulnerabilities": "vulnerabilities"}
COLOURS = {S.PASS: "#2e7d32", S.FAIL: "#c62828", S.WARN: "#ef6c00", S.UNKNOWN: "#757575"}
_SALT = "qlrf.compliance.badge"


@dataclass(frozen=True)
class Badge:
    """One badge: which, pass|fail|warn|unknown, a short label, and a tooltip saying why."""

    key: str
    status: str
    label: str
    tooltip: str

    def as_dict(self) -> dict:
        return asdict(self)


def badges_for(version, evidence, manifest_sha256: str) -> list[Badge]:
    """The five badges of ``version`` from its evidence (``selectors.Evidence``) and current manifest digest."""
    supply = (version.contract or {}).get("supply_chain") or {}
    return [
        _cis(version, evidence.scans),
        _slsa(supply.get("slsa_level") or 0, evidence.provenance),
        _signed(supply.get("signature") or {}, evidence.verification, manifest_sha256),
        _sbom(supply.get("sbom") or {}, evidence.sbom),
        _vulnerabilities(version, evidence.scans),
    ]


def _cis(version, summaries) -> Badge:
    cis = (version.contract.get("hardening") or {}).get("cis") or {}
    title = f"{cis.get('benchmark', 'CIS')} {cis.get('benchmark_version', '')}".strip()
    level = f"L{cis['level']}" if cis.get("level") else ""
    scans = [s for s in contract_scans(version.contract) if s.get("type") == "cis"]
    if not scans:
        return Badge("cis", S.UNKNOWN, f"{level} not required".strip(), f"{title}: the contract requires no CIS scan")
    check = check_scan(scans[0], summaries)
    minimum = (scans[0].get("thresholds") or {}).get("min_pass_percent")
    if check.missing:
        return Badge("cis", S.UNKNOWN, f"{level} no results".strip(), f"{title}: no InSpec report uploaded")
    percent = "n/a" if check.pass_percent is None else f"{check.pass_percent:g}%"
    tooltip = f"{title} level {cis.get('level', '?')}: pass rate {percent}, threshold {minimum}%"
    return Badge("cis", S.FAIL if check.failures else S.PASS, f"{level} {percent}".strip(), tooltip)


def _slsa(required: int, provenance) -> Badge:
    if provenance is None:
        status = S.FAIL if required else S.UNKNOWN
        return Badge("slsa", status, "none", f"no provenance uploaded; the contract requires SLSA L{required}")
    level = provenance.slsa_level
    tooltip = (
        f"provenance claims L{level} (builder {provenance.builder_id or 'unknown'}); contract requires L{required}"
    )
    return Badge("slsa", S.PASS if level >= required else S.FAIL, f"L{level}", tooltip)


def _signed(policy: dict, verification, manifest_sha256: str) -> Badge:
    if verification is None:
        status = S.FAIL if policy.get("required") else S.UNKNOWN
        return Badge("signed", status, "unsigned", "no signature of this version's manifest has been checked")
    if verification.result != VerificationResultChoices.VERIFIED:
        return Badge("signed", S.FAIL, "invalid", f"latest check failed ({verification.code}): {verification.reason}")
    if verification.manifest_sha256 != manifest_sha256:
        return Badge("signed", S.WARN, "stale", "artifacts were added after the manifest was signed")
    who = verification.identity if verification.method == "keyless" else f"key {verification.key_id[:12]}"
    return Badge("signed", S.PASS, verification.method, f"verified {verification.created_at:%Y-%m-%d}: {who}")


def _sbom(policy: dict, sbom) -> Badge:
    if sbom is None:
        status = S.FAIL if policy.get("required") else S.WARN
        return Badge("sbom", status, "missing", f"no SBOM uploaded; the contract asks for {policy.get('format')}")
    tooltip = f"{sbom.format} {sbom.spec_version} ({sbom.encoding}), {sbom.package_count} packages"
    findings = getattr(sbom, "findings_count", 0)
    if findings:  # present and imported, but not strictly valid: said on the badge, not hidden in a tooltip
        noun = "finding" if findings == 1 else "findings"
        tooltip += f", {findings} validation {noun} (see the version page)"
        return Badge("sbom", S.PASS, f"{sbom.format} {sbom.package_count} pkgs, {findings} {noun}", tooltip)
    return Badge("sbom", S.PASS, f"{sbom.format} {sbom.package_count} pkgs", tooltip)


def _vulnerabilities(version, summaries) -> Badge:
    scans = [s for s in contract_scans(version.contract) if s.get("type") == "vulnerability"]
    if not scans:
        return Badge("vulnerabilities", S.UNKNOWN, "not required", "the contract requires no vulnerability scan")
    checks = [check_scan(scan, summaries) for scan in scans]
    if any(c.missing for c in checks):
        return Badge("vulnerabilities", S.UNKNOWN, "no scan", "no SARIF result from the contract's scanner")
    if any(c.execution_failed for c in checks):
        return Badge("vulnerabilities", S.FAIL, "scan failed", "the scanner reported a failed execution")
    failures = [f for c in checks for f in c.failures]
    if failures:
        return Badge("vulnerabilities", S.FAIL, "over threshold", "; ".join(failures))
    return Badge("vulnerabilities", S.PASS, "ok", "within the contract's thresholds")


def badge_ref(organization: str, family: str, version: str, badge: str) -> str:
    """What a badge key signs: the badge's identity, independent of where the URL is mounted."""
    return f"{organization}/{family}/{version}/{badge}"


def badge_key(ref: str) -> str:
    """The URL key of a badge: an HMAC under SECRET_KEY, stable while the key is."""
    return signing.Signer(salt=_SALT).signature(ref)


def badge_key_valid(ref: str, key: str) -> bool:
    """Constant-time check of a badge key."""
    return bool(key) and constant_time_compare(badge_key(ref), key)


def badge_url(version, badge: str) -> str:
    """The stable public URL (path and key) of one badge of ``version``."""
    args = [version.organization.slug, version.family.slug, version.version, badge]
    return f"{reverse('compliance-badge', args=args)}?key={badge_key(badge_ref(*args))}"


def render_svg(badge: Badge) -> str:
    """A flat shields-style SVG: the badge's title on the left, its label on the right coloured by status."""
    title, label = TITLES[badge.key], badge.label
    left, right = _width(title), _width(label)
    context = {
        "title": title,
        "label": label,
        "tooltip": badge.tooltip,
        "colour": COLOURS[badge.status],
        "left": left,
        "right": right,
        "width": left + right,
        "left_x": left / 2,
        "right_x": left + right / 2,
    }
    return render_to_string("compliance/badge.svg", context)


def _width(text: str) -> int:
    return 10 + int(len(text) * 6.5)
