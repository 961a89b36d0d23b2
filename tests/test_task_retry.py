"""A background task that meets a database lock is tried again, not lost (#19: the embedded default drops no work)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from django.db import OperationalError, transaction

from qlrf import taskqueue
from qlrf.taskqueue import retry_on_lock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)


def _flaky(errors: list[Exception]):
    calls = []

    @retry_on_lock
    def task(value):
        calls.append(value)
        if errors:
            raise errors.pop(0)
        return value * 2

    return task, calls


def test_a_lock_error_is_retried_until_the_task_succeeds(caplog):
    task, calls = _flaky([OperationalError("database is locked"), OperationalError("database is locked")])
    assert task(21) == 42
    assert calls == [21, 21, 21]
    assert sum("met a database lock" in r.getMessage() for r in caplog.records) == 2


def test_postgres_deadlocks_and_serialisation_failures_are_lock_errors_too():
    task, calls = _flaky([OperationalError("deadlock detected"), OperationalError("could not serialize access")])
    assert task(1) == 2 and len(calls) == 3


def test_retries_stop_after_the_limit_and_the_last_error_is_raised():
    errors = [OperationalError("database is locked")] * (taskqueue.LOCK_RETRY_ATTEMPTS + 1)
    task, calls = _flaky(list(errors))
    with pytest.raises(OperationalError, match="locked"):
        task(1)
    assert len(calls) == taskqueue.LOCK_RETRY_ATTEMPTS


@pytest.mark.parametrize("error", [OperationalError("no such table: x"), ValueError("database is locked")])
def test_other_errors_are_not_retried(error):
    task, calls = _flaky([error])
    with pytest.raises(type(error)):
        task(1)
    assert calls == [1]


@pytest.mark.django_db
def test_inside_a_transaction_a_lock_error_is_not_retried():
    # the failed statement poisoned the transaction: retrying inside it cannot succeed
    task, calls = _flaky([OperationalError("database is locked")])
    with transaction.atomic(), pytest.raises(OperationalError):
        task(1)
    assert calls == [1]


def _task_paths() -> set[str]:
    """Every task entry point: the functions of apps/*/tasks.py and every "apps.….tasks.…" path named in code."""
    paths = set()
    for module_path in ROOT.glob("apps/*/tasks.py"):
        module = importlib.import_module(f"apps.{module_path.parent.name}.tasks")
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ == module.__name__ and not name.startswith("_"):
                paths.add(f"{module.__name__}.{name}")
    pattern = re.compile(r"[\"'](apps\.\w+\.tasks\.\w+)[\"']")
    for source in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("qlrf/**/*.py")]:
        if "migrations" not in source.parts:
            paths.update(pattern.findall(source.read_text()))
    return paths


def test_every_task_entry_point_retries_on_lock():
    paths = _task_paths()
    assert len(paths) >= 12
    missing = []
    for path in sorted(paths):
        module, _, name = path.rpartition(".")
        func = getattr(importlib.import_module(module), name)
        if not getattr(func, "retries_on_lock", False):
            missing.append(path)
    assert not missing, f"decorate these task entry points with qlrf.taskqueue.retry_on_lock: {missing}"
