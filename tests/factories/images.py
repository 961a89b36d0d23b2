"""Image registry helpers for tests: real example contracts, registration through the services."""

from pathlib import Path

from apps.images.services import image_version_publish, image_version_register

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"
UBUNTU = (EXAMPLES / "ubuntu-22.04.contract.yaml").read_text()
WINDOWS = (EXAMPLES / "windows-server-2022.contract.yaml").read_text()


def register(tenant, contract, version, *, publish=True, parent=None, artifacts=()):
    """Register (and by default publish) ``version`` from ``contract`` in ``tenant``'s organisation."""
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
