"""Two seeded tenants, built once per module inside one transaction that is rolled back at the end; each test runs in
its own savepoint on top (pytest-django's ``db``), so what a test writes never reaches the next one."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.api.support import seeded_tenant


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield {"alpha": seeded_tenant("alpha"), "bravo": seeded_tenant("bravo", own_family=True)}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
