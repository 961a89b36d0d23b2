"""Every endpoint registered on the /api/v1/ router has a test class running the generic isolation suite."""

import importlib
from pathlib import Path

from qlrf.api.urls import router
from tests.api_base import REGISTERED_TEST_CLASSES

TESTS = Path(__file__).resolve().parent


def _import_all_api_tests() -> None:
    for path in TESTS.rglob("test_api*.py"):
        module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        importlib.import_module(module)


def test_every_registered_endpoint_has_an_isolation_test_class():
    _import_all_api_tests()
    registered = {basename for _, _, basename in router.registry}
    missing = sorted(registered - set(REGISTERED_TEST_CLASSES))
    assert missing == [], f"endpoints without a TenantAPITests subclass: {missing}"
    assert len(registered) >= 7
