"""Signature checks of a version's manifest: cosign key pairs (fresh P-256 key) and real Sigstore bundles, offline."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from apps.compliance.models import SignatureVerification, SigningKey, Upload
from apps.compliance.selectors import version_manifest
from apps.compliance.services import signature_verify, signing_key_create
from apps.images.services import image_artifact_add
from apps.tenancy.models import AuditEvent
from tests.compliance.conftest import UBUNTU, fixture_bytes, rhel_version, ubuntu_version
from tests.factories.images import register

pytestmark = pytest.mark.django_db

BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
UBUNTU_SIGNER = "https://github.com/example-org/golden-images/.github/workflows/ubuntu.yml@refs/heads/main"


@pytest.fixture
def keyed(tenant_a, signer):
    """A RHEL version whose contract names the signer's key, and that key registered for the organisation."""
    version = rhel_version(tenant_a, signer)
    signing_key_create(
        actor=tenant_a.users["engineer"],
        organization=tenant_a.organization,
        name="ci",
        public_key_pem=signer.public_pem,
    )
    return version


def test_signing_key_id_is_derived_and_audited(tenant_a, signer):
    key = signing_key_create(
        actor=None, organization=tenant_a.organization, name="ci", public_key_pem=signer.public_pem
    )
    assert key.key_id == signer.key_id and len(key.key_id) == 64
    assert AuditEvent.objects.filter(action="compliance.signingkey.create", object_id=str(key.pk)).count() == 1
    with pytest.raises(ValidationError) as duplicate:
        signing_key_create(actor=None, organization=tenant_a.organization, name="ci2", public_key_pem=signer.public_pem)
    assert duplicate.value.error_dict["public_key_pem"][0].code == "duplicate_key"
    with pytest.raises(ValidationError) as bad:
        signing_key_create(actor=None, organization=tenant_a.organization, name="bad", public_key_pem="not a key")
    assert bad.value.error_dict["public_key_pem"][0].code == "malformed_key"
    assert SigningKey.objects.count() == 1


def test_cosign_signature_over_the_manifest_verifies(tenant_a, signer, keyed):
    manifest = version_manifest(keyed)
    verification = signature_verify(
        actor=tenant_a.users["engineer"], version=keyed, signature=signer.sign(manifest), key=signer.key_id
    )
    assert (verification.result, verification.code, verification.method) == ("verified", "", "keypair")
    assert (verification.key_id, verification.identity, verification.issuer) == (signer.key_id, signer.key_id, "")
    assert verification.manifest_sha256 == hashlib.sha256(manifest).hexdigest()
    assert (verification.via_gate, verification.enforced, verification.warned) == (False, False, False)
    assert verification.upload.kind == "signature" and verification.upload.status == "accepted"


def test_cosign_signature_fails_for_a_changed_manifest(tenant_a, signer, keyed):
    signature = signer.sign(version_manifest(keyed))
    image_artifact_add(actor=None, version=keyed, platform="aws", image_ref="ami-0abc", region="us-east-1")
    verification = signature_verify(actor=None, version=keyed, signature=signature, key=f"sha256:{signer.key_id}")
    assert (verification.result, verification.code) == ("failed", "invalid_signature")
    tampered = version_manifest(keyed).replace(b"ami-0abc", b"ami-0bad")
    verification = signature_verify(actor=None, version=keyed, signature=signer.sign(tampered))
    assert (verification.result, verification.code) == ("failed", "invalid_signature")
    assert SignatureVerification.objects.filter(result="failed").count() == 2


def test_a_key_not_listed_in_the_contract_is_refused(tenant_a, signer):
    from tests.compliance.conftest import Signer

    version = rhel_version(tenant_a, signer)
    other = Signer()
    signing_key_create(actor=None, organization=tenant_a.organization, name="other", public_key_pem=other.public_pem)
    verification = signature_verify(
        actor=None, version=version, signature=other.sign(version_manifest(version)), key=other.key_id
    )
    assert (verification.result, verification.code) == ("failed", "key_not_allowed")
    verification = signature_verify(actor=None, version=version, signature=signer.sign(version_manifest(version)))
    assert (verification.result, verification.code) == ("failed", "unknown_key")  # listed, but not registered


def test_keyless_bundle_for_another_signer_fails_with_identity_mismatch(tenant_a):
    version = ubuntu_version(tenant_a)
    bundle = fixture_bytes("sigstore/conformance/happy-path-intoto-in-dsse-v3.sigstore.json")
    verification = signature_verify(actor=None, version=version, bundle=bundle)
    assert (verification.result, verification.code, verification.method) == ("failed", "identity_mismatch", "keyless")
    assert verification.identity == BEACON
    assert verification.issuer == "https://token.actions.githubusercontent.com"


def test_keyless_staging_bundle_is_untrusted_by_the_production_root(tenant_a):
    version = register(
        tenant_a,
        UBUNTU.replace(UBUNTU_SIGNER, "a@tny.town").replace(
            "https://token.actions.githubusercontent.com", "https://github.com/login/oauth"
        ),
        "1.0.0",
    )
    verification = signature_verify(actor=None, version=version, bundle=fixture_bytes("sigstore/bundle.txt.sigstore"))
    assert (verification.result, verification.code) == ("failed", "untrusted_root")


def test_keyless_bundle_verifies_with_the_contract_identity_and_the_configured_root(tenant_a, monkeypatch):
    """The real production bundle signs a.txt; the manifest is swapped for a.txt to reach the verified path."""
    version = register(tenant_a, UBUNTU.replace(UBUNTU_SIGNER, BEACON), "1.0.0")
    monkeypatch.setattr(
        "apps.compliance.services.signatures.version_manifest", lambda v: fixture_bytes("sigstore/conformance/a.txt")
    )
    bundle = fixture_bytes("sigstore/conformance/happy-path-intoto-in-dsse-v3.sigstore.json")
    verification = signature_verify(actor=None, version=version, bundle=bundle)
    assert (verification.result, verification.identity, verification.code) == ("verified", BEACON, "")
    assert verification.manifest_sha256 == hashlib.sha256(fixture_bytes("sigstore/conformance/a.txt")).hexdigest()


def test_key_pair_bundle_verifies_against_the_registered_key(tenant_a, monkeypatch):
    key_pem = fixture_bytes("sigstore/conformance/key.pub").decode()
    key = signing_key_create(actor=None, organization=tenant_a.organization, name="conformance", public_key_pem=key_pem)
    from tests.compliance.conftest import RHEL, RHEL_KEY_ID

    version = register(tenant_a, RHEL.replace(RHEL_KEY_ID, f"sha256:{key.key_id}"), "9.4.0")
    monkeypatch.setattr(
        "apps.compliance.services.signatures.version_manifest", lambda v: fixture_bytes("sigstore/conformance/a.txt")
    )
    bundle = fixture_bytes("sigstore/conformance/managed-key-happy-path.sigstore.json")
    verification = signature_verify(actor=None, version=version, bundle=bundle)
    assert (verification.result, verification.key_id, verification.method) == ("verified", key.key_id, "keypair")


def test_a_detached_signature_cannot_satisfy_a_keyless_contract(tenant_a):
    version = ubuntu_version(tenant_a)
    verification = signature_verify(actor=None, version=version, signature="c2lnbmF0dXJl")
    assert (verification.result, verification.code) == ("failed", "method_mismatch")


def test_no_signature_material_is_refused_and_nothing_logged(tenant_a):
    version = ubuntu_version(tenant_a)
    with pytest.raises(ValidationError):
        signature_verify(actor=None, version=version)
    assert (SignatureVerification.objects.count(), Upload.objects.count()) == (0, 0)
