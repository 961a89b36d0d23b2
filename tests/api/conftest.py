"""Two seeded tenants, built once per module inside one transaction that is rolled back at the end; each test runs in
its own savepoint on top (pytest-django's ``db``), so what a test writes never reaches the next one. Stored files go
to a temporary MEDIA_ROOT for the module."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from tests.api.support import seeded_tenant


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    with media, django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield {"alpha": seeded_tenant("alpha"), "bravo": seeded_tenant("bravo", own_family=True)}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def keep_connection():
    """Like Django's test client: a live WSGI handler must not close the connection holding the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
