"""Keyless sigstore bundles (Fulcio certificate + Rekor entry) verified offline with sigstore-python."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ObjectIdentifier
from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

from .outcome import VerificationOutcome

OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

# sigstore-python raises one exception type with messages only, so failures are sorted by message fragments.
_FAILURE_CODES: tuple[tuple[str, str, str], ...] = (
    ("SANs do not match", "identity_mismatch", "signer identity does not match the policy"),
    ("OIDCIssuer does not match", "issuer_mismatch", "OIDC issuer does not match the policy"),
    ("message digest mismatch", "artifact_mismatch", "artifact does not match the bundle (changed, or another file)"),
    ("Signature is invalid for input", "invalid_signature", "signature does not verify over this artifact"),
    ("certificate chain", "untrusted_root", "certificate does not chain to the configured trusted root"),
    ("log entry", "tlog_invalid", "transparency log entry is missing or invalid"),
    ("inclusion", "tlog_invalid", "transparency log inclusion could not be verified"),
)


def verify_sigstore_bundle(
    *, artifact: bytes, bundle: bytes, trusted_root: str | Path | bytes, identity: str, issuer: str
) -> VerificationOutcome:
    """Verify a keyless bundle against a configured trusted root and an identity+issuer policy, never online."""
    if not identity or not issuer:
        raise ValueError("an identity and an issuer are both required: a bundle is only trusted for a known signer")
    root = _load_trusted_root(trusted_root)
    if isinstance(root, VerificationOutcome):
        return root
    loaded = _load_bundle(bundle)
    if isinstance(loaded, VerificationOutcome):
        return loaded
    parsed, raw = loaded
    signer, signer_issuer = certificate_identity(parsed.signing_certificate)
    if not _issued_by_root(parsed.signing_certificate, root):
        # Checked first so every bundle version gives the same answer: without it a Rekor v2 bundle (no integrated
        # time, only a timestamp the wrong root cannot verify) fails on "not enough sources of verified time".
        reason = "certificate does not chain to the configured trusted root: none of its authorities issued it"
        return VerificationOutcome.fail("untrusted_root", reason, identity=signer, issuer=signer_issuer)
    expected = policy.Identity(identity=identity, issuer=issuer)
    try:
        verifier = Verifier(trusted_root=root)  # builds no network connection; the root is all it trusts
        if "dsseEnvelope" in raw:
            failure = _check_dsse(verifier, parsed, expected, artifact)
        else:
            verifier.verify_artifact(artifact, parsed, expected)
            failure = None
    except SigstoreError as exc:
        failure = _classify(str(exc))
    if failure is not None:
        return VerificationOutcome.fail(failure[0], failure[1], identity=signer, issuer=signer_issuer)
    return VerificationOutcome.ok(
        identity=signer,
        issuer=signer_issuer,
        reason="certificate chain, transparency log, policy and signature verified",
    )


def _issued_by_root(certificate: x509.Certificate, root: TrustedRoot) -> bool:
    """True when one of the trusted root's Fulcio certificates directly issued the signing certificate.

    Only the issuing link is checked here (signature and issuer name); validity windows, the rest of the chain and the
    transparency log are sigstore-python's to verify afterwards.
    """
    try:
        authorities = root.get_fulcio_certs()
    except SigstoreError:
        return False
    for authority in authorities:
        try:
            certificate.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def certificate_identity(certificate: x509.Certificate) -> tuple[str, str]:
    """Signer identity (first SAN: email or URI) and OIDC issuer (Fulcio extension .1.8, else .1.1)."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.RFC822Name) + san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        names = []
    issuer = ""
    for oid, der_encoded in ((OIDC_ISSUER_V2, True), (OIDC_ISSUER_V1, False)):
        try:
            raw = certificate.extensions.get_extension_for_oid(oid).value.value  # type: ignore[attr-defined]
        except x509.ExtensionNotFound:
            continue
        issuer = _der_utf8(raw) if der_encoded else raw.decode("utf-8", "replace")
        break
    return (names[0] if names else "", issuer)


def _der_utf8(raw: bytes) -> str:
    """Decode a DER UTF8String (tag 0x0c, short or long length form)."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return raw.decode("utf-8", "replace")
    length, offset = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(raw[2 : 2 + count], "big"), 2 + count
    return raw[offset : offset + length].decode("utf-8", "replace")


def _load_trusted_root(trusted_root: str | Path | bytes) -> TrustedRoot | VerificationOutcome:
    try:
        if isinstance(trusted_root, bytes):
            return _trusted_root_from_bytes(trusted_root)
        return TrustedRoot.from_file(str(trusted_root))
    except (OSError, ValueError, SigstoreError) as exc:
        return VerificationOutcome.fail("invalid_trusted_root", f"trusted root cannot be loaded: {_detail(exc)}")


def _trusted_root_from_bytes(data: bytes) -> TrustedRoot:
    """TrustedRoot only has a public file loader; go through a private temporary file."""
    handle, name = tempfile.mkstemp(suffix=".trusted_root.json")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return TrustedRoot.from_file(name)
    finally:
        os.unlink(name)


def _load_bundle(bundle: bytes) -> tuple[Bundle, dict[str, Any]] | VerificationOutcome:
    try:
        raw = json.loads(bundle)
    except (ValueError, UnicodeDecodeError) as exc:
        return VerificationOutcome.fail("malformed_bundle", f"bundle is not JSON: {exc}")
    material = raw.get("verificationMaterial") if isinstance(raw, dict) else None
    if isinstance(material, dict) and "publicKey" in material:
        reason = "bundle is signed with a key pair (publicKey hint, no certificate): verify it with the public key"
        return VerificationOutcome.fail("no_certificate", reason)
    try:
        return Bundle.from_json(bundle), raw
    except (SigstoreError, ValueError) as exc:
        message = _first_line(exc)
        if "log entry" in message:
            return VerificationOutcome.fail("no_tlog_entry", f"bundle has no usable transparency log entry: {message}")
        return VerificationOutcome.fail("malformed_bundle", f"bundle cannot be read: {_detail(exc)}")


def _check_dsse(
    verifier: Verifier, bundle: Bundle, expected: policy.Identity, artifact: bytes
) -> tuple[str, str] | None:
    """Verify the DSSE envelope, then require the artifact's sha256 among the in-toto statement's subjects."""
    payload_type, payload = verifier.verify_dsse(bundle, expected)
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        return "unsupported_payload", f"DSSE payload type {payload_type} is not an in-toto statement"
    try:
        subjects = json.loads(payload).get("subject") or []
        digests = {s.get("digest", {}).get("sha256") for s in subjects if isinstance(s, dict)}
    except (ValueError, AttributeError):
        return "malformed_bundle", "DSSE payload is not a readable in-toto statement"
    if hashlib.sha256(artifact).hexdigest() not in digests:
        return "artifact_mismatch", "artifact sha256 is not a subject of the signed attestation"
    return None


def _classify(message: str) -> tuple[str, str]:
    for fragment, code, summary in _FAILURE_CODES:
        if fragment in message:
            return code, f"{summary}: {_first_line(message)}"
    return "verification_failed", f"signature verification failed: {_first_line(message)}"


def _first_line(value: object) -> str:
    return str(value).strip().splitlines()[0][:300] if str(value).strip() else type(value).__name__


def _detail(exc: Exception) -> str:
    """The library's message without pydantic's documentation links, on one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "errors.pydantic.dev" not in line]
    return " | ".join(lines)[:400]
