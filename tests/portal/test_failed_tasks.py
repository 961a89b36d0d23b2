"""Failed background tasks are shown to those who may read them in the admin, and to nobody else (#19)."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

pytestmark = pytest.mark.django_db


def _task(name: str, *, success: bool, hours_ago: float) -> Task:
    stopped = timezone.now() - datetime.timedelta(hours=hours_ago)
    return Task.objects.create(
        id=name.ljust(32, "0")[:32],
        name=name,
        func="apps.drift.tasks.drift_snapshot_task",
        started=stopped - datetime.timedelta(seconds=3),
        stopped=stopped,
        success=success,
        result="OperationalError: database is locked" if not success else None,
    )


@pytest.fixture
def failures():
    _task("recent-failure", success=False, hours_ago=1)
    _task("another-failure", success=False, hours_ago=5)
    _task("old-failure", success=False, hours_ago=30)  # outside the window
    _task("a-success", success=True, hours_ago=1)


def test_a_user_who_may_read_failures_sees_the_count_and_the_way_to_them(client, tenant_a, failures):
    admin = tenant_a.users["admin"]
    admin.user_permissions.add(Permission.objects.get(content_type__app_label="django_q", codename="view_failure"))
    client.force_login(admin)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "2 background tasks failed in the last 24 hours" in page
    assert reverse("admin:django_q_failure_changelist") in page


@pytest.mark.parametrize("role", ["viewer", "engineer", "admin"])
def test_members_without_the_permission_see_nothing_of_other_tenants_tasks(client, tenant_a, failures, role):
    client.force_login(tenant_a.users[role])
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "background task" not in page


def test_no_failures_no_banner(client, tenant_a):
    admin = tenant_a.users["admin"]
    admin.user_permissions.add(Permission.objects.get(content_type__app_label="django_q", codename="view_failure"))
    client.force_login(admin)
    assert "background task" not in client.get(reverse("portal:dashboard")).content.decode()
