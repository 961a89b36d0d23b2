"""cosign key-pair signatures and the key-hint conformance bundle, verified with key.pub and cryptography."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apps.compliance.signing import key_id, verify_cosign_signature, verify_key_bundle

KEY_ID = "4cb32c4837c6dda8cfb1681efb3fef5f94ffce5b979e6bdb9139302c857af139"


@pytest.fixture
def conf(external: Path) -> Path:
    return external / "sigstore" / "conformance"


@pytest.fixture
def production(external: Path) -> Path:
    return external / "sigstore" / "trusted_root.sigstore-public-good.json"


def test_key_id_is_sha256_of_der_and_matches_the_bundle_hint(conf: Path) -> None:
    key = serialization.load_pem_public_key((conf / "key.pub").read_bytes())
    assert key_id(key) == KEY_ID
    assert base64.b64encode(bytes.fromhex(KEY_ID)).decode() == "TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk="


def test_derived_cosign_signature_verifies_with_key_pub(conf: Path) -> None:
    outcome = verify_cosign_signature(
        artifact=(conf / "a.txt").read_bytes(),
        signature_b64=(conf / "a.txt.sig").read_bytes(),
        public_key_pem=(conf / "key.pub").read_bytes(),
    )
    assert (outcome.result, outcome.identity, outcome.key_id, outcome.code) == ("verified", KEY_ID, KEY_ID, "")


def test_signature_as_text_with_trailing_newline_verifies(conf: Path) -> None:
    outcome = verify_cosign_signature(
        artifact=(conf / "a.txt").read_bytes(),
        signature_b64=(conf / "a.txt.sig").read_text() + "\n",
        public_key_pem=(conf / "key.pub").read_bytes(),
    )
    assert outcome.verified


def test_changed_input_fails(conf: Path) -> None:
    outcome = verify_cosign_signature(
        artifact=(conf / "a.txt").read_bytes() + b" ",
        signature_b64=(conf / "a.txt.sig").read_bytes(),
        public_key_pem=(conf / "key.pub").read_bytes(),
    )
    assert (outcome.result, outcome.code, outcome.key_id) == ("failed", "invalid_signature", KEY_ID)


def test_another_key_fails(conf: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    outcome = verify_cosign_signature(
        artifact=(conf / "a.txt").read_bytes(), signature_b64=(conf / "a.txt.sig").read_bytes(), public_key_pem=pem
    )
    assert (outcome.result, outcome.code) == ("failed", "invalid_signature")


def test_fresh_cosign_style_signature_round_trips() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    blob = b"golden image manifest"
    signature = base64.b64encode(private.sign(blob, ec.ECDSA(hashes.SHA256())))
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert verify_cosign_signature(artifact=blob, signature_b64=signature, public_key_pem=pem).verified


@pytest.mark.parametrize(
    ("signature", "key", "code"),
    [
        ("not base64!!", None, "malformed_signature"),
        (None, b"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n", "malformed_key"),
        (None, "rsa", "unsupported_key"),
    ],
)
def test_unusable_signature_or_key(conf: Path, signature: str | None, key: bytes | str | None, code: str) -> None:
    if key == "rsa":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        key = rsa_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    outcome = verify_cosign_signature(
        artifact=(conf / "a.txt").read_bytes(),
        signature_b64=signature if signature is not None else (conf / "a.txt.sig").read_bytes(),
        public_key_pem=key if isinstance(key, bytes) else (conf / "key.pub").read_bytes(),
    )
    assert (outcome.result, outcome.code) == ("failed", code)


def key_bundle(conf: Path, production: Path, *, bundle: bytes | None = None, artifact: bytes | None = None, root=None):
    return verify_key_bundle(
        artifact=artifact if artifact is not None else (conf / "a.txt").read_bytes(),
        bundle=bundle if bundle is not None else (conf / "managed-key-happy-path.sigstore.json").read_bytes(),
        public_key_pem=(conf / "key.pub").read_bytes(),
        trusted_root=root if root is not None else production,
    )


def test_managed_key_bundle_verifies_with_key_pub_and_production_rekor(conf: Path, production: Path) -> None:
    outcome = key_bundle(conf, production)
    assert (outcome.result, outcome.identity, outcome.code) == ("verified", KEY_ID, "")
    assert "SET verifies" in outcome.reason


def test_managed_key_bundle_fails_against_the_staging_root(conf: Path, production: Path) -> None:
    outcome = key_bundle(conf, production, root=production.parent / "trusted_root.sigstore-staging.json")
    assert (outcome.result, outcome.code) == ("failed", "untrusted_root")


def test_managed_key_bundle_fails_for_a_changed_artifact(conf: Path, production: Path) -> None:
    outcome = key_bundle(conf, production, artifact=b"something else")
    assert (outcome.result, outcome.code) == ("failed", "artifact_mismatch")


def test_managed_key_bundle_with_a_forged_set_fails(conf: Path, production: Path) -> None:
    doc = json.loads((conf / "managed-key-happy-path.sigstore.json").read_bytes())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    outcome = key_bundle(conf, production, bundle=json.dumps(doc).encode())
    assert (outcome.result, outcome.code) == ("failed", "tlog_invalid")


def test_managed_key_bundle_whose_log_entry_records_another_artifact_fails(conf: Path, production: Path) -> None:
    doc = json.loads((conf / "managed-key-happy-path.sigstore.json").read_bytes())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    body["spec"]["data"]["hash"]["value"] = hashlib.sha256(b"other").hexdigest()
    entry["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    outcome = key_bundle(conf, production, bundle=json.dumps(doc).encode())
    assert (outcome.result, outcome.code) == ("failed", "tlog_invalid")


def test_managed_key_bundle_without_tlog_entry_fails(conf: Path, production: Path) -> None:
    doc = json.loads((conf / "managed-key-happy-path.sigstore.json").read_bytes())
    doc["verificationMaterial"]["tlogEntries"] = []
    outcome = key_bundle(conf, production, bundle=json.dumps(doc).encode())
    assert (outcome.result, outcome.code) == ("failed", "no_tlog_entry")


def test_keyless_bundle_is_not_a_key_bundle(conf: Path, production: Path) -> None:
    outcome = key_bundle(conf, production, bundle=(conf / "happy-path-intoto-in-dsse-v3.sigstore.json").read_bytes())
    assert (outcome.result, outcome.code) == ("failed", "malformed_bundle")
