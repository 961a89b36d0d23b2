"""Fixtures of the deploy tests: the chart rendered once per session for the default and the ingress values."""

from __future__ import annotations

import pytest

from tests.deploy.deploy_support import INGRESS_VALUES, objects, render


@pytest.fixture(scope="session")
def default_objects() -> dict[tuple[str, str], dict]:
    return objects(render(None))


@pytest.fixture(scope="session")
def ingress_objects() -> dict[tuple[str, str], dict]:
    return objects(render(INGRESS_VALUES))
