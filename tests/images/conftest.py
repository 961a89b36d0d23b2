"""Fixtures of the image registry tests."""

import pytest

from tests.factories import EnvironmentFactory
from tests.factories.images import EXAMPLES, register  # noqa: F401 - re-exported for the image tests


@pytest.fixture
def prod(tenant_a):
    return EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod")
