"""A scan survives a killed worker with every scope synced exactly once (#17).

Two real django-q2 clusters (``manage.py qcluster``, one worker each: two "pods") share this test's PostgreSQL database
and the real Redis broker. A slow synthetic connector lists 12 scopes; the scan is queued, fans out one task per
scope, and while a scope of the first cluster is being applied (its transaction holding written batches) the whole
cluster is SIGKILLed. The other cluster must finish the scan: the dead scope's transaction is rolled back by
PostgreSQL, its lease expires, the sweeper (the next scope task, or the one-minute janitor schedule) queues it again,
and it is applied once. Counted: machines, new/unchanged, history rows, one ``asset.discovered`` event per scope, one
finish. PostgreSQL and Redis only (SQLite has no row locks and no second machine); the same logic runs on the test
database in test_scan_scopes.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.events.models import OutboxEvent
from apps.inventory.models import Asset, AssetImageChange, AssetPresence, ScanScope
from apps.inventory.services import scan_create
from apps.tenancy.models import AuditEvent
from qlrf.schedules import schedules_sync
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SCOPES, PER_SCOPE = 12, 1500  # 3 accounts × 4 regions; ~2.5 s per scope at 1.5 ms per machine
CONFIG = {
    "count": SCOPES * PER_SCOPE,
    "accounts": 3,
    "regions": {"aws": ["eu-west-1", "eu-west-2", "us-east-1", "us-west-2"]},
    "asset_delay_ms": 1.5,
}


@pytest.fixture
def on_postgres_and_redis():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("two worker processes need PostgreSQL and Redis: set QLRF_DATABASE_URL and QLRF_REDIS_URL")


def _env() -> dict:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLRF_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="qlrf.settings.development",  # not the test profile: its django-q2 runs sync
        PYTHONPATH=str(ROOT),
        QLRF_DEBUG="false",
        QLRF_DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        QLRF_REDIS_URL=settings.REDIS_URL,
        QLRF_Q_WORKERS="1",
        QLRF_SCAN_SCOPE_LEASE_SECONDS="3",
        QLRF_TASK_MODE="inline",
        QLRF_BREAKERS_ENABLED="false",
    )
    return env


def _clear_broker() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("django_q:qlrf:*"):
        client.delete(key)


def _cluster(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killing it is killing the whole "pod"
    )


def _in_group(worker: str, group: int) -> bool:
    try:
        return os.getpgid(int(worker.rsplit(":", 1)[1])) == group
    except (ValueError, ProcessLookupError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_scan_survives_a_killed_worker_with_every_scope_synced_exactly_once(
    on_postgres_and_redis, tenant_a, tmp_path
):
    _clear_broker()
    schedules_sync()  # the one-minute janitor among them
    connector = synthetic(tenant_a, **CONFIG)
    run = scan_create(actor=None, connector=connector, trigger="manual")
    env = _env()
    first, second = _cluster(env, tmp_path / "first.log"), _cluster(env, tmp_path / "second.log")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from django_q.tasks import async_task; "
             f"async_task('apps.inventory.tasks.connector_scan_task', {run.pk})"],
            env=env, cwd=ROOT, check=True, timeout=120, capture_output=True,
        )  # fmt: skip
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline:  # a scope of the first cluster, batches written
            for row in ScanScope.objects.filter(run=run, status="running"):
                if _in_group(row.worker, first.pid) and time.time() - row.started_at.timestamp() > 1.8:
                    victim = row
            time.sleep(0.1)
        assert victim is not None, (tmp_path / "first.log").read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status not in ("queued", "running"):
                break
            time.sleep(1)
        retried_by = ScanScope.objects.get(pk=victim.pk).worker
        retried_by_survivor = _in_group(retried_by, second.pid)  # while its processes still run
    finally:
        for process in (first, second):
            _stop(process)
        _clear_broker()
    log = (tmp_path / "second.log").read_text()
    assert run.status == "succeeded", (run.status, run.error, run.scopes, log[-3000:])
    rows = {row.key: row for row in ScanScope.objects.filter(run=run)}
    assert len(rows) == SCOPES
    assert rows[victim.key].attempts == 2  # retried once, by the surviving cluster
    assert retried_by_survivor, (retried_by, victim.worker)
    assert {key: row.attempts for key, row in rows.items() if key != victim.key} == dict.fromkeys(
        set(rows) - {victim.key}, 1
    )
    # every scope applied exactly once: nothing counted unchanged (a half-applied retry would), no history doubled
    assert (run.discovered, run.new, run.updated, run.unchanged, run.removed) == (SCOPES * PER_SCOPE,) + (
        SCOPES * PER_SCOPE,
        0,
        0,
        0,
    )
    assert Asset.objects.filter(connector=connector).count() == SCOPES * PER_SCOPE
    for key in rows:
        assert Asset.objects.filter(connector=connector, scope_key=key).count() == PER_SCOPE
    assert AssetPresence.objects.count() == AssetImageChange.objects.count() == SCOPES * PER_SCOPE
    discovered = OutboxEvent.objects.filter(type="asset.discovered", payload__scan_run=run.pk)
    assert sorted(e.payload["scope"] for e in discovered) == sorted(rows)  # one per scope, none twice
    assert {e.payload["count"] for e in discovered} == {PER_SCOPE}
    assert OutboxEvent.objects.filter(type="scan.finished", payload__scan_run=run.pk).count() == 1
    assert AuditEvent.objects.filter(action="inventory.scanrun.finish").count() == 1
    assert run.scopes[victim.key]["attempts"] == 2
