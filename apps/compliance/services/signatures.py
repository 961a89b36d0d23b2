"""Signature checks of a version's manifest (keyless bundles, cosign key pairs) and the organisation's public keys.

The signed bytes are always ``canonical_manifest`` of the version (``selectors.version_manifest``): a signature over
anything else fails with ``artifact_mismatch``/``invalid_signature``. Every call appends a SignatureVerification.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import transaction

from apps.compliance.signing import (
    VerificationOutcome,
    verify_cosign_signature,
    verify_key_bundle,
    verify_sigstore_bundle,
)
from apps.compliance.signing import key_id as compute_key_id
from apps.compliance.signing.keypair import load_p256_key
from apps.tenancy.choices import SignaturePolicyChoices
from apps.tenancy.services import audit_record, ensure_permitted, snapshot, tenant_object_create
from qlrf.errors import field_error

from ..choices import SignatureMethodChoices, UploadKindChoices, UploadStatusChoices, VerificationResultChoices
from ..models import SignatureVerification, SigningKey, Upload
from ..selectors import version_manifest
from .uploads import store_original

MAX_SIGNATURE_BYTES = 1024 * 1024


def signing_key_create(*, actor, organization, name: str, public_key_pem: str) -> SigningKey:
    """Register a cosign public key (ECDSA P-256 PEM); its key id is derived here, never taken from the caller."""
    key = load_p256_key(public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem)
    if isinstance(key, VerificationOutcome):
        raise field_error("public_key_pem", key.reason, key.code)
    kid = compute_key_id(key)
    if SigningKey.objects.filter(organization=organization, key_id=kid).exists():
        raise field_error("public_key_pem", f"this key is already registered (key id {kid})", "duplicate_key")
    data = {"organization": organization, "name": name, "public_key_pem": public_key_pem, "key_id": kid}
    return tenant_object_create(actor=actor, model=SigningKey, data=data)


def contract_signature(version) -> dict:
    """The contract's ``supply_chain.signature`` policy (method keyless|key, keyless signers, cosign key ids)."""
    return ((version.contract or {}).get("supply_chain") or {}).get("signature") or {}


def contract_method(version) -> str:
    return SignatureMethodChoices.KEYPAIR if contract_signature(version).get("method") == "key" else "keyless"


def signature_verify(
    *, actor, version, environment=None, bundle: bytes | None = None, signature: str | None = None, key=None
) -> SignatureVerification:
    """Verify a bundle, or a detached signature with a key, over the version's manifest; always logged.

    Keyless: against ``QLRF_SIGSTORE_TRUSTED_ROOT`` with the identities/issuers of the contract. Key pair: against
    the organisation's SigningKeys whose ids the contract lists (``key``: a SigningKey, key id or key name).
    """
    organization = version.organization
    ensure_permitted(actor, scope="uploads", action="add", organization=organization)
    if environment is not None and environment.organization_id != organization.pk:
        raise field_error("environment", "the environment belongs to another organization", "cross_tenant")
    if not bundle and not signature:
        raise field_error("bundle", "give a Sigstore bundle, or a signature and a key", "missing_signature")
    material = bundle if bundle else signature.encode()
    if len(material) > MAX_SIGNATURE_BYTES:
        raise field_error("bundle", f"signature material is over {MAX_SIGNATURE_BYTES} bytes", "too_large")
    manifest = version_manifest(version)
    method = contract_method(version)
    if method == SignatureMethodChoices.KEYLESS:
        outcome = _keyless(version, manifest, bundle)
    else:
        outcome = _keypair(version, manifest, bundle, signature, key)
    stored, digest = store_original(organization=organization, data=material)
    with transaction.atomic():
        ensure_permitted(actor, scope="uploads", action="add", organization=organization)
        upload = Upload.objects.create(
            organization=organization,
            version=version,
            kind=UploadKindChoices.SIGNATURE,
            status=UploadStatusChoices.ACCEPTED,
            file=stored,
            sha256=digest,
            size=len(material),
            filename="bundle.sigstore.json" if bundle else "signature.sig",
            media_type="application/vnd.dev.sigstore.bundle+json" if bundle else "text/plain",
            uploaded_by=actor if actor is not None and actor.pk else None,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="compliance.upload.accept",
            obj=upload,
            after=snapshot(upload),
        )
        return verification_record(
            actor=actor,
            version=version,
            environment=environment,
            method=method,
            outcome=outcome,
            manifest_sha256=hashlib.sha256(manifest).hexdigest(),
            upload=upload,
        )


def verification_record(
    *, actor, version, environment, method, outcome, manifest_sha256="", upload=None, via_gate=False
) -> SignatureVerification:
    """Append one verification row; ``enforced``/``warned`` follow the environment's signature policy."""
    result = outcome if isinstance(outcome, str) else outcome.result
    policy = environment.signature_policy if environment is not None else ""
    return SignatureVerification.objects.create(
        organization=version.organization,
        version=version,
        environment=environment,
        method=method,
        result=result,
        code="" if isinstance(outcome, str) else outcome.code,
        identity="" if isinstance(outcome, str) else outcome.identity[:1024],
        issuer="" if isinstance(outcome, str) else outcome.issuer[:500],
        key_id="" if isinstance(outcome, str) else outcome.key_id,
        reason="" if isinstance(outcome, str) else outcome.reason,
        manifest_sha256=manifest_sha256,
        upload=upload,
        via_gate=via_gate,
        enforced=policy == SignaturePolicyChoices.ENFORCE,
        warned=policy == SignaturePolicyChoices.WARN and result != VerificationResultChoices.VERIFIED,
        actor=actor if actor is not None and actor.pk else None,
    )


def _keyless(version, manifest: bytes, bundle: bytes | None) -> VerificationOutcome:
    if not bundle:
        reason = "the contract requires a keyless Sigstore bundle; a detached key-pair signature was given"
        return VerificationOutcome.fail("method_mismatch", reason)
    signers = contract_signature(version).get("keyless") or []
    outcomes = [
        verify_sigstore_bundle(
            artifact=manifest,
            bundle=bundle,
            trusted_root=settings.QLRF_SIGSTORE_TRUSTED_ROOT,
            identity=signer["identity"],
            issuer=signer["issuer"],
        )
        for signer in signers
    ]
    if not outcomes:
        return VerificationOutcome.fail("no_policy", "the contract names no keyless signer")
    return _best(outcomes, ("identity_mismatch", "issuer_mismatch"))


def _keypair(version, manifest: bytes, bundle, signature, key) -> VerificationOutcome:
    allowed = {k.removeprefix("sha256:") for k in contract_signature(version).get("cosign_key_ids") or []}
    keys = list(SigningKey.objects.filter(organization=version.organization, key_id__in=allowed))
    if key is not None:
        wanted = key.key_id if isinstance(key, SigningKey) else str(key).removeprefix("sha256:")
        if not any(wanted in (k.key_id, k.name) for k in keys):
            reason = f"key {wanted} is not a registered key of this organization listed in the contract"
            return VerificationOutcome.fail("key_not_allowed", reason, key_id=wanted if len(wanted) == 64 else "")
        keys = [k for k in keys if wanted in (k.key_id, k.name)]
    if not keys:
        reason = "no registered signing key of this organization is listed in the contract's cosign_key_ids"
        return VerificationOutcome.fail("unknown_key", reason)
    outcomes = []
    for candidate in keys:
        pem = candidate.public_key_pem.encode()
        if bundle:
            trusted_root = settings.QLRF_SIGSTORE_TRUSTED_ROOT
            outcomes.append(
                verify_key_bundle(artifact=manifest, bundle=bundle, public_key_pem=pem, trusted_root=trusted_root)
            )
        else:
            outcomes.append(verify_cosign_signature(artifact=manifest, signature_b64=signature, public_key_pem=pem))
    return _best(outcomes, ("key_mismatch", "invalid_signature"))


def _best(outcomes: list[VerificationOutcome], weak_codes: tuple[str, ...]) -> VerificationOutcome:
    """A verified outcome if any; else the most telling failure (one not merely "another signer/key")."""
    for outcome in outcomes:
        if outcome.verified:
            return outcome
    telling = [o for o in outcomes if o.code not in weak_codes]
    return (telling or outcomes)[0]


def bundle_bytes(value) -> bytes:
    """A bundle given as a JSON object or as text, as bytes."""
    return json.dumps(value).encode() if isinstance(value, dict) else str(value).encode()
