"""Keyless sigstore bundles from fixtures/external/sigstore verify offline exactly as the README describes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compliance.signing import VerificationOutcome, verify_sigstore_bundle

GITHUB_OAUTH = "https://github.com/login/oauth"
ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


@pytest.fixture
def sig(external: Path) -> Path:
    return external / "sigstore"


@pytest.fixture
def staging(sig: Path) -> Path:
    return sig / "trusted_root.sigstore-staging.json"


@pytest.fixture
def production(sig: Path) -> Path:
    return sig / "trusted_root.sigstore-public-good.json"


def verify(sig: Path, artifact: str, bundle: str | bytes, root: Path | bytes, identity: str, issuer: str):
    raw = bundle if isinstance(bundle, bytes) else (sig / bundle).read_bytes()
    return verify_sigstore_bundle(
        artifact=(sig / artifact).read_bytes() if isinstance(artifact, str) else artifact,
        bundle=raw,
        trusted_root=root,
        identity=identity,
        issuer=issuer,
    )


def test_v01_staging_bundle_verifies_against_staging_root(sig: Path, staging: Path) -> None:
    outcome = verify(sig, "bundle.txt", "bundle.txt.sigstore", staging, "a@tny.town", GITHUB_OAUTH)
    assert outcome == VerificationOutcome(
        result="verified",
        identity="a@tny.town",
        issuer=GITHUB_OAUTH,
        reason="certificate chain, transparency log, policy and signature verified",
    )


def test_v03_staging_bundle_verifies_against_staging_root_given_as_bytes(sig: Path, staging: Path) -> None:
    outcome = verify(
        sig, "bundle_v3.txt", "bundle_v3.txt.sigstore", staging.read_bytes(), "william@yossarian.net", GITHUB_OAUTH
    )
    assert (outcome.result, outcome.identity, outcome.issuer) == ("verified", "william@yossarian.net", GITHUB_OAUTH)


@pytest.mark.parametrize(
    ("artifact", "bundle", "identity"),
    [
        ("bundle.txt", "bundle.txt.sigstore", "a@tny.town"),  # v0.1
        ("bundle.txt", "bundle_v02.txt.sigstore", "a@tny.town"),  # v0.2 (derived, see ORIGIN.md)
        ("bundle_v3.txt", "bundle_v3.txt.sigstore", "william@yossarian.net"),  # v0.3
        # v0.3 with a Rekor v2 entry (hashedrekord 0.0.2, no integrated time): used to say verification_failed
        ("rekor-v2/staging-rekor-v2.txt", "rekor-v2/staging-rekor-v2.txt.sigstore.json", "jku@goto.fi"),
    ],
)
def test_staging_bundles_fail_against_the_production_root(
    sig: Path, production: Path, artifact: str, bundle: str, identity: str
) -> None:
    outcome = verify(sig, artifact, bundle, production, identity, GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "untrusted_root")
    assert outcome.reason.startswith("certificate does not chain to the configured trusted root")
    assert outcome.identity == identity  # who signed is still reported


@pytest.mark.parametrize(
    ("artifact", "bundle", "identity"),
    [
        ("bundle.txt", "bundle_v02.txt.sigstore", "a@tny.town"),
        ("rekor-v2/staging-rekor-v2.txt", "rekor-v2/staging-rekor-v2.txt.sigstore.json", "jku@goto.fi"),
    ],
)
def test_v02_and_rekor_v2_bundles_verify_against_their_own_root(
    sig: Path, staging: Path, artifact: str, bundle: str, identity: str
) -> None:
    outcome = verify(sig, artifact, bundle, staging, identity, GITHUB_OAUTH)
    assert (outcome.result, outcome.identity, outcome.code) == ("verified", identity, "")


def test_dsse_bundle_verifies_against_production(sig: Path, production: Path) -> None:
    outcome = verify(
        sig,
        "conformance/a.txt",
        "conformance/happy-path-intoto-in-dsse-v3.sigstore.json",
        production,
        BEACON,
        ACTIONS_ISSUER,
    )
    assert (outcome.result, outcome.identity, outcome.issuer, outcome.code) == (
        "verified",
        BEACON,
        ACTIONS_ISSUER,
        "",
    )


def test_dsse_bundle_fails_against_staging(sig: Path, staging: Path) -> None:
    outcome = verify(
        sig,
        "conformance/a.txt",
        "conformance/happy-path-intoto-in-dsse-v3.sigstore.json",
        staging,
        BEACON,
        ACTIONS_ISSUER,
    )
    assert (outcome.result, outcome.code) == ("failed", "untrusted_root")


def test_dsse_bundle_fails_for_a_changed_artifact(sig: Path, production: Path) -> None:
    changed = (sig / "conformance/a.txt").read_bytes() + b"\n"
    outcome = verify(
        sig, changed, "conformance/happy-path-intoto-in-dsse-v3.sigstore.json", production, BEACON, ACTIONS_ISSUER
    )
    assert (outcome.result, outcome.code) == ("failed", "artifact_mismatch")
    assert outcome.reason == "artifact sha256 is not a subject of the signed attestation"


def test_identity_mismatch(sig: Path, staging: Path) -> None:
    outcome = verify(sig, "bundle.txt", "bundle.txt.sigstore", staging, "william@yossarian.net", GITHUB_OAUTH)
    assert (outcome.result, outcome.code, outcome.identity) == ("failed", "identity_mismatch", "a@tny.town")
    assert "william@yossarian.net" in outcome.reason and "a@tny.town" in outcome.reason


def test_issuer_mismatch(sig: Path, staging: Path) -> None:
    outcome = verify(sig, "bundle.txt", "bundle.txt.sigstore", staging, "a@tny.town", ACTIONS_ISSUER)
    assert (outcome.result, outcome.code) == ("failed", "issuer_mismatch")


def test_changed_artifact_fails(sig: Path, staging: Path) -> None:
    changed = (sig / "bundle.txt").read_bytes().replace(b"a", b"b", 1)
    outcome = verify(sig, changed, "bundle.txt.sigstore", staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "artifact_mismatch")


def test_bundle_for_another_file_fails(sig: Path, staging: Path) -> None:
    outcome = verify(sig, "bundle_v3.txt", "bundle.txt.sigstore", staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "artifact_mismatch")


def test_bundle_without_tlog_entry_fails(sig: Path, staging: Path) -> None:
    doc = json.loads((sig / "bundle.txt.sigstore").read_bytes())
    doc["verificationMaterial"]["tlogEntries"] = []
    outcome = verify(sig, "bundle.txt", json.dumps(doc).encode(), staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "no_tlog_entry")


def test_tampered_signature_fails(sig: Path, staging: Path) -> None:
    doc = json.loads((sig / "bundle.txt.sigstore").read_bytes())
    signature = doc["messageSignature"]["signature"]
    doc["messageSignature"]["signature"] = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    outcome = verify(sig, "bundle.txt", json.dumps(doc).encode(), staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "invalid_signature")
    assert outcome.reason == "signature does not verify over this artifact: Signature is invalid for input"


@pytest.mark.parametrize("raw", [b"{not json", b"{}", b"[]", b"\xff\xfe"])
def test_malformed_bundle_fails_readably(sig: Path, staging: Path, raw: bytes) -> None:
    outcome = verify(sig, "bundle.txt", raw, staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "malformed_bundle")
    assert outcome.reason.startswith("bundle ")


def test_half_a_bundle_fails_as_malformed(sig: Path, staging: Path) -> None:
    raw = (sig / "bundle.txt.sigstore").read_bytes()
    outcome = verify(sig, "bundle.txt", raw[: len(raw) // 2], staging, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "malformed_bundle")


def test_key_pair_bundle_is_not_a_keyless_bundle(sig: Path, production: Path) -> None:
    outcome = verify(
        sig, "conformance/a.txt", "conformance/managed-key-happy-path.sigstore.json", production, BEACON, ACTIONS_ISSUER
    )
    assert (outcome.result, outcome.code) == ("failed", "no_certificate")


@pytest.mark.parametrize("root", [b"{}", b"not json"])
def test_unusable_trusted_root_fails(sig: Path, root: bytes) -> None:
    outcome = verify(sig, "bundle.txt", "bundle.txt.sigstore", root, "a@tny.town", GITHUB_OAUTH)
    assert (outcome.result, outcome.code) == ("failed", "invalid_trusted_root")


def test_identity_and_issuer_are_required(sig: Path, staging: Path) -> None:
    with pytest.raises(ValueError):
        verify(sig, "bundle.txt", "bundle.txt.sigstore", staging, "", GITHUB_OAUTH)
