"""Fixtures of the image registry tests: real example contracts and a registered family."""

from pathlib import Path

import pytest

from apps.images.services import image_version_publish, image_version_register
from tests.factories import EnvironmentFactory

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"


@pytest.fixture
def ubuntu_contract() -> str:
    return (EXAMPLES / "ubuntu-22.04.contract.yaml").read_text()


@pytest.fixture
def windows_contract() -> str:
    return (EXAMPLES / "windows-server-2022.contract.yaml").read_text()


def register(tenant, contract, version, *, publish=True, parent=None, artifacts=()):
    image_version, _ = image_version_register(
        actor=None,
        organization=tenant.organization,
        contract=contract,
        version=version,
        parent=parent,
        artifacts=list(artifacts),
    )
    if publish:
        image_version = image_version_publish(actor=None, version=image_version)
    return image_version


@pytest.fixture
def prod(tenant_a):
    return EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod")
