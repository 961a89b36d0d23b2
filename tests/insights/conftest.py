"""A drifting fleet for the insights tests: 12 prod machines on 1.0.0 after 1.1.0 was promoted with no grace."""

import pytest

from apps.images.services import channel_promote
from apps.insights.providers import guard
from apps.inventory.services import scan_run_now
from tests.factories.images import register
from tests.inventory.conftest import synthetic


@pytest.fixture
def fleet(tenant_a, envs, ubuntu_contract, django_capture_on_commit_callbacks):
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    channel_promote(actor=None, version=v1, environment=envs["prod"])
    connector = synthetic(
        tenant_a, count=12, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        scan_run_now(actor=None, connector=connector, trigger="cli")
    channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=0)
    return {"v1": v1, "v2": v2}


@pytest.fixture(autouse=True)
def fresh_breakers():
    """Breaker state is per process: every test starts closed."""
    guard._breakers.clear()
    yield
    guard._breakers.clear()


@pytest.fixture(autouse=True)
def own_quota_storage(settings):
    """A fresh in-memory quota counter per test (the limiter is cached per storage URI)."""
    import uuid

    settings.QLRF_RATE_LIMIT_STORAGE = f"memory://?unique={uuid.uuid4().hex}"
