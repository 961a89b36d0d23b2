"""Key-pair signatures: cosign `sign-blob --key` detached signatures and key-hint sigstore bundles, offline."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .outcome import VerificationOutcome

COSIGN_KEY_ISSUER = ""  # a key pair has no OIDC issuer; the identity is the key id


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """Hex sha256 of the DER SubjectPublicKeyInfo: the key's stable identity."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_p256_key(public_key_pem: bytes) -> ec.EllipticCurvePublicKey | VerificationOutcome:
    """Load a PEM public key, or return the failed outcome explaining why it cannot be used."""
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError) as exc:
        return VerificationOutcome.fail("malformed_key", f"public key is not a readable PEM key: {exc}")
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return VerificationOutcome.fail("unsupported_key", "only ECDSA P-256 public keys are accepted")
    return key


def verify_cosign_signature(
    *, artifact: bytes, signature_b64: bytes | str, public_key_pem: bytes
) -> VerificationOutcome:
    """Check a cosign `sign-blob --key` signature: base64 DER ECDSA P-256 over sha256(artifact)."""
    key = load_p256_key(public_key_pem)
    if isinstance(key, VerificationOutcome):
        return key
    kid = key_id(key)
    text = signature_b64.decode("ascii", "replace") if isinstance(signature_b64, bytes) else signature_b64
    try:
        signature = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return VerificationOutcome.fail("malformed_signature", "signature is not base64", identity=kid, key_id=kid)
    return _check_signature(key, kid, signature, artifact)


def _check_signature(
    key: ec.EllipticCurvePublicKey,
    kid: str,
    signature: bytes,
    artifact: bytes,
    reason: str = "ECDSA P-256 signature verified with the public key",
) -> VerificationOutcome:
    try:
        key.verify(signature, artifact, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        reason = "signature does not match the artifact for this key (artifact changed, or signed by another key)"
        return VerificationOutcome.fail("invalid_signature", reason, identity=kid, key_id=kid)
    return VerificationOutcome.ok(identity=kid, issuer=COSIGN_KEY_ISSUER, reason=reason, key_id=kid)


def verify_key_bundle(
    *, artifact: bytes, bundle: bytes, public_key_pem: bytes, trusted_root: str | Path | bytes
) -> VerificationOutcome:
    """Verify a key-pair sigstore bundle (publicKey hint, no certificate) offline.

    sigstore-python 4.5 refuses bundles without a certificate, so this checks them directly: the key hint, the
    message digest, the signature, that the Rekor entry body records this digest/signature/key, and the entry's
    signed entry timestamp (SET) against a Rekor key of the trusted root. The Merkle inclusion proof and the
    RFC 3161 timestamp are not checked.
    """
    key = load_p256_key(public_key_pem)
    if isinstance(key, VerificationOutcome):
        return key
    kid = key_id(key)
    try:
        doc = json.loads(bundle)
        hint = doc["verificationMaterial"]["publicKey"]["hint"]
        signature = base64.b64decode(doc["messageSignature"]["signature"], validate=True)
        digest = base64.b64decode(doc["messageSignature"]["messageDigest"]["digest"], validate=True)
        entries = doc["verificationMaterial"].get("tlogEntries") or []
    except (ValueError, KeyError, TypeError) as exc:
        return VerificationOutcome.fail("malformed_bundle", f"not a key-pair sigstore bundle: {exc!r}", key_id=kid)
    failure = _bundle_mismatch(hint, digest, key, artifact)
    if failure is None and len(entries) != 1:
        failure = ("no_tlog_entry", f"expected exactly one transparency log entry, found {len(entries)}")
    if failure is None:
        failure = _tlog_mismatch(entries[0], artifact, signature, key, _rekor_keys(trusted_root))
    if failure is not None:
        return VerificationOutcome.fail(failure[0], failure[1], identity=kid, key_id=kid)
    reason = "signature verified with the public key; Rekor entry matches and its SET verifies with the trusted root"
    return _check_signature(key, kid, signature, artifact, reason)


def _bundle_mismatch(
    hint: str, digest: bytes, key: ec.EllipticCurvePublicKey, artifact: bytes
) -> tuple[str, str] | None:
    expected_hint = base64.b64encode(bytes.fromhex(key_id(key))).decode()
    if hint != expected_hint:
        return "key_mismatch", f"bundle was made with key hint {hint}, not this public key ({expected_hint})"
    if digest != hashlib.sha256(artifact).digest():
        return "artifact_mismatch", "bundle message digest does not match sha256 of the artifact"
    return None


def _rekor_keys(trusted_root: str | Path | bytes) -> dict[bytes, ec.EllipticCurvePublicKey]:
    raw = trusted_root if isinstance(trusted_root, bytes) else Path(trusted_root).read_bytes()
    keys: dict[bytes, ec.EllipticCurvePublicKey] = {}
    for tlog in json.loads(raw).get("tlogs", []):
        public_key = serialization.load_der_public_key(base64.b64decode(tlog["publicKey"]["rawBytes"]))
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            keys[base64.b64decode(tlog["logId"]["keyId"])] = public_key
    return keys


def _tlog_mismatch(
    entry: dict[str, Any],
    artifact: bytes,
    signature: bytes,
    key: ec.EllipticCurvePublicKey,
    rekor_keys: dict[bytes, ec.EllipticCurvePublicKey],
) -> tuple[str, str] | None:
    """Check the hashedrekord body against the bundle and the SET against the trusted root's Rekor key."""
    try:
        body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
        spec = body["spec"]
        log_id = base64.b64decode(entry["logId"]["keyId"])
        set_signature = base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"])
        recorded_key = serialization.load_pem_public_key(base64.b64decode(spec["signature"]["publicKey"]["content"]))
        consistent = (
            body.get("kind") == "hashedrekord"
            and spec["data"]["hash"]["value"] == hashlib.sha256(artifact).hexdigest()
            and base64.b64decode(spec["signature"]["content"]) == signature
            and isinstance(recorded_key, ec.EllipticCurvePublicKey)
            and key_id(recorded_key) == key_id(key)
        )
        payload = rfc8785.dumps(
            {
                "body": entry["canonicalizedBody"],
                "integratedTime": int(entry["integratedTime"]),
                "logIndex": int(entry["logIndex"]),
                "logID": log_id.hex(),
            }
        )
    except (ValueError, KeyError, TypeError) as exc:
        return "tlog_invalid", f"transparency log entry is incomplete: {exc!r}"
    if not consistent:
        return "tlog_invalid", "transparency log entry does not record this artifact, signature and key"
    rekor_key = rekor_keys.get(log_id)
    if rekor_key is None:
        return "untrusted_root", "the log entry's Rekor key is not in the configured trusted root"
    try:
        rekor_key.verify(set_signature, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "tlog_invalid", "signed entry timestamp does not verify with the trusted root's Rekor key"
    return None
