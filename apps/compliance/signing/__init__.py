"""Signature verification for golden-image artifacts: keyless sigstore bundles and cosign key pairs, offline."""

from .keyless import certificate_identity, verify_sigstore_bundle
from .keypair import key_id, verify_cosign_signature, verify_key_bundle
from .manifest import MANIFEST_SCHEMA, canonical_manifest
from .outcome import VerificationOutcome

__all__ = [
    "MANIFEST_SCHEMA",
    "VerificationOutcome",
    "canonical_manifest",
    "certificate_identity",
    "key_id",
    "verify_cosign_signature",
    "verify_key_bundle",
    "verify_sigstore_bundle",
]
