"""Portal fixtures: tenant A's and tenant B's counted fleets."""

import pytest

from tests.portal.fleet import build_fleet


@pytest.fixture
def fleet_a(tenant_a):
    return build_fleet(tenant_a, "alpha")


@pytest.fixture
def fleet_b(tenant_b):
    return build_fleet(tenant_b, "bravo")
