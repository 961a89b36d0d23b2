"""Fixtures of the compliance tests: uploads under a temporary MEDIA_ROOT, example contracts, fixture paths, keys."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apps.compliance.signing import key_id
from tests.factories import EnvironmentFactory
from tests.factories.images import EXAMPLES, register

EXTERNAL = Path(__file__).resolve().parents[2] / "fixtures" / "external"
UBUNTU = (EXAMPLES / "ubuntu-22.04.contract.yaml").read_text()
RHEL = (EXAMPLES / "rhel-9.contract.yaml").read_text()
RHEL_KEY_ID = "sha256:5f0d8b3c2a1e4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded originals go to a per-test directory, never into the repository's var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def fixture_bytes(relative: str) -> bytes:
    return (EXTERNAL / relative).read_bytes()


def ubuntu_version(tenant, version="1.0.0", **kwargs):
    return register(tenant, UBUNTU, version, **kwargs)


class Signer:
    """A freshly generated cosign-style P-256 key pair: sign bytes like ``cosign sign-blob --key``."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.key_id = key_id(self.private.public_key())

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture
def signer() -> Signer:
    return Signer()


def rhel_version(tenant, signer: Signer, version="9.4.0", **kwargs):
    """A RHEL 9 version whose contract lists ``signer``'s key id (method: key)."""
    contract = RHEL.replace(RHEL_KEY_ID, f"sha256:{signer.key_id}")
    return register(tenant, contract, version, **kwargs)


@pytest.fixture
def envs(tenant_a):
    """A prod environment (signature policy enforce) and a dev one (warn) in tenant A."""
    prod = EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod", signature_policy="enforce")
    dev = EnvironmentFactory(organization=tenant_a.organization, slug="dev", tier="dev", signature_policy="warn")
    return prod, dev
