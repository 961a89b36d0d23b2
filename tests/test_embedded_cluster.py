"""The embedded default drops no work (#19): ``./scripts/up``'s sequence on one SQLite file — migrate, schedules, the
demo, then the task cluster and the web server together — and every background task the cluster runs succeeds.

At start the cluster runs every due schedule at once (the daily snapshots, revocations, sweeps, both demo connectors'
scans), and each scan runs its after-scan work (drift snapshot, signature re-check; in the worker, since a worker
sees no cluster heartbeat in the local-memory cache): two workers and the web server writing the same file. Before
WAL, the busy timeout and the lock retry, three of them failed with "database is locked". After-scan work that runs
in-process cannot fail as a task (it is logged), so its results are checked too: a drift snapshot and a signature
re-check per scan.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_TASKS = 6  # 4 recurring jobs + 2 connector scans


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLRF_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="qlrf.settings.development", QLRF_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    return env


def _manage(env, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, check=True, timeout=600, capture_output=True
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tasks(db: Path) -> tuple[list[tuple[str, int, str]], int]:
    with sqlite3.connect(db, timeout=20) as conn:
        done = conn.execute("SELECT func, success, substr(coalesce(result, ''), 1, 300) FROM django_q_task").fetchall()
        queued = conn.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]
    return done, queued


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=20) as conn:
        return conn.execute(sql).fetchone()[0]


def test_cluster_and_server_on_one_sqlite_file_lose_no_task(tmp_path):
    env = _env(tmp_path)
    for command in (("migrate", "--no-input", "-v", "0"), ("setup_schedules", "-v", "0"), ("load_demo",)):
        _manage(env, *command)
    port = _free_port()
    log = tmp_path / "qcluster.log"
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = tmp_path / "qlrf.sqlite3"
    snapshots = "SELECT count(*) FROM drift_driftsnapshot WHERE trigger = 'scan'"
    rechecks = "SELECT count(*) FROM tenancy_auditevent WHERE action = 'compliance.signature.recheck'"
    before = _count(db, snapshots), _count(db, rechecks)
    try:
        deadline = time.monotonic() + 420
        pages = 0
        while time.monotonic() < deadline:
            try:  # the web server writes too (sessions, login attempts) while the cluster works
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).read()
                pages += 1
            except OSError:
                pass
            done, queued = _tasks(db)
            if len(done) >= EXPECTED_TASKS and queued == 0:
                break
            time.sleep(1)
        done, queued = _tasks(db)
    finally:
        for process in (server, cluster):
            process.terminate()
        for process in (server, cluster):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [(func, result) for func, success, result in done if not success]
    assert not failed, failed
    funcs = [func for func, _, _ in done]
    assert funcs.count("apps.inventory.tasks.connector_scheduled_scan_task") == 2
    assert "apps.drift.tasks.drift_daily_snapshots_task" in funcs
    assert queued == 0 and pages > 0
    # the after-scan work of both scans happened (in the worker): a snapshot and a signature re-check each
    assert (_count(db, snapshots) - before[0], _count(db, rechecks) - before[1]) == (2, 2)
    text = log.read_text()
    assert "database is locked" not in text and "Traceback" not in text, text[-3000:]
