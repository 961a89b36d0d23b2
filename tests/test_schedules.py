"""The installation's recurring jobs are upserted by name and point at importable tasks."""

import importlib

import pytest
from django_q.models import Schedule

from qlrf.cli import main
from qlrf.schedules import RECURRING

pytestmark = pytest.mark.django_db


def test_setup_schedules_is_idempotent_and_every_task_imports(capsys):
    assert main(["setup", "schedules"]) == 0
    assert main(["setup", "schedules"]) == 0
    names = sorted(Schedule.objects.values_list("name", flat=True))
    assert names == sorted(job.name for job in RECURRING)
    for job in RECURRING:
        module, _, func = job.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), func))


def test_daily_snapshot_task_snapshots_every_organization(tenant_a, tenant_b):
    from apps.drift.models import DriftSnapshot
    from apps.drift.tasks import drift_daily_snapshots_task

    assert drift_daily_snapshots_task() == 2
    assert DriftSnapshot.objects.filter(trigger="daily").count() == 2
