"""The deploy gate: may this version go to this environment? Every reason is given and both logs are appended.

Reasons (docs/compliance.md has the table): signature missing/failed/stale (deny under ``enforce``, warn under
``warn``), version revoked or deprecated (deny), draft (warn), SBOM missing when required (deny in enforce
environments, warn otherwise), each contract scan missing (same), failed to execute (deny) or over its thresholds
(deny). ``allowed`` is true when no reason denies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from apps.images.choices import ImageVersionStatusChoices
from apps.images.models import ImageVersion
from apps.tenancy.choices import SignaturePolicyChoices
from apps.tenancy.services import ensure_permitted_on
from qlrf.errors import field_error

from ..choices import GateSeverityChoices, VerificationResultChoices
from ..models import GateDecision
from ..selectors import manifest_digests, version_evidence
from .evaluation import check_scan, contract_scans
from .signatures import contract_method, verification_record

DENY, WARN = GateSeverityChoices.DENY.value, GateSeverityChoices.WARN.value


@dataclass(frozen=True)
class GateReason:
    """One reason of a gate decision: a stable code, deny or warn, and a readable detail."""

    code: str
    severity: str
    detail: str


def gate_check(*, actor, version, environment) -> GateDecision:
    """May ``version`` go to ``environment``? Logs a GateDecision and a SignatureVerification either way."""
    if environment.organization_id != version.organization_id:
        raise field_error("environment", "the environment belongs to another organization", "cross_tenant")
    with transaction.atomic():
        version = ImageVersion.objects.select_related("family", "organization").get(pk=version.pk)  # current state
        ensure_permitted_on(actor, version, "view")
        enforce = environment.signature_policy == SignaturePolicyChoices.ENFORCE
        evidence = version_evidence([version])[version.pk]
        digest = manifest_digests([version])[version.pk]
        result, signature_reason = _signature(evidence.verification, digest, enforce)
        reasons = [
            *([signature_reason] if signature_reason else []),
            *_lifecycle(version),
            *_sbom(version, evidence.sbom, enforce),
            *_scans(version, evidence.scans, enforce),
        ]
        latest = evidence.verification
        verification = verification_record(
            actor=actor,
            version=version,
            environment=environment,
            method=latest.method if latest is not None else contract_method(version),
            outcome=result,
            manifest_sha256=digest,
            via_gate=True,
        )
        return GateDecision.objects.create(
            organization=version.organization,
            version=version,
            environment=environment,
            allowed=not any(r.severity == DENY for r in reasons),
            verification=verification,
            reasons=[asdict(r) for r in reasons],
            actor=actor if actor is not None and actor.pk else None,
        )


def _signature(verification, manifest_sha256: str, enforce: bool) -> tuple[str, GateReason | None]:
    severity = DENY if enforce else WARN
    if verification is None:
        return VerificationResultChoices.MISSING, GateReason(
            "signature_missing", severity, "no signature of this version's manifest has been verified"
        )
    if verification.result != VerificationResultChoices.VERIFIED:
        detail = f"the latest signature check failed ({verification.code}): {verification.reason}"
        return VerificationResultChoices.FAILED, GateReason("signature_invalid", severity, detail)
    if verification.manifest_sha256 != manifest_sha256:
        detail = "the manifest changed (artifacts added) since it was signed; sign the current manifest"
        return VerificationResultChoices.FAILED, GateReason("signature_stale", severity, detail)
    return VerificationResultChoices.VERIFIED, None


def _lifecycle(version) -> list[GateReason]:
    if version.status == ImageVersionStatusChoices.REVOKED or version.is_revoked_at(timezone.now()):
        detail = f"{version} is revoked: {version.revocation_reason or 'no reason given'}"
        return [GateReason("version_revoked", DENY, detail)]
    if version.status == ImageVersionStatusChoices.DEPRECATED:
        return [GateReason("version_deprecated", DENY, f"{version} is deprecated")]
    if version.status == ImageVersionStatusChoices.DRAFT:
        return [GateReason("version_draft", WARN, f"{version} is a draft, not published")]
    return []


def _sbom(version, sbom, enforce: bool) -> list[GateReason]:
    policy = ((version.contract or {}).get("supply_chain") or {}).get("sbom") or {}
    if sbom is None:
        if not policy.get("required"):
            return []
        return [GateReason("sbom_missing", DENY if enforce else WARN, "the contract requires an SBOM; none uploaded")]
    expected = policy.get("format")
    if expected and sbom.format != expected:
        detail = f"the contract asks for a {expected} SBOM; the latest is {sbom.format} {sbom.spec_version}"
        return [GateReason("sbom_format_mismatch", WARN, detail)]
    return []


def _scans(version, summaries: list, enforce: bool) -> list[GateReason]:
    reasons = []
    for scan in contract_scans(version.contract):
        label = f"{scan.get('type')} scan ({scan.get('tool')})"
        check = check_scan(scan, summaries)
        if check.missing:
            reasons.append(GateReason("scan_missing", DENY if enforce else WARN, f"no result for the {label}"))
            continue
        if check.execution_failed:
            detail = f"the {label} reported a failed execution: not a clean scan"
            reasons.append(GateReason("scan_execution_failed", DENY, detail))
        if check.failures:
            code = "cis_below_threshold" if check.summary.kind == "inspec" else f"{scan.get('type')}_above_threshold"
            reasons.append(GateReason(code, DENY, f"{label}: {'; '.join(check.failures)}"))
    return reasons
