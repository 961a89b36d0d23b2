"""Crash proof (issue #12): the relay and the inbound consumer killed with SIGKILL at random points lose nothing.

The relay and the consumer run as real ``manage.py`` processes against this test's PostgreSQL database and the real
Redis. Starting Django costs seconds, so one ``manage.py shell`` process sets Django up once and forks a fresh
``events_relay`` / ``events_consume`` child per round; the test SIGKILLs that child at a point drawn from a seeded
generator while a writer thread keeps committing events. A final clean run is a fresh ``manage.py`` process of its
own. PostgreSQL only: SQLite has no row locks and cannot hold a writer and a relay process at the same time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from apps.events.models import DeadLetter, InboundProcessed, OutboxEvent
from apps.events.services import emit
from apps.images.models import ImageVersion

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261204
KILLS = 20

# Forks one child per line on stdin ("relay" / "consume"), prints its pid; the child runs the real command.
FORKER = """
import os, sys
from django.core.management import call_command
from django.db import connections
connections.close_all()
for line in sys.stdin:
    command = line.strip()
    if command == "quit":
        break
    pid = os.fork()
    if pid == 0:
        try:
            if command == "relay":
                call_command("events_relay", "--batch-size", "25")
            else:
                call_command("events_consume", "--consumer", "crash-1")
        finally:
            os._exit(0)
    print("pid", pid, flush=True)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
"""


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the crash proof needs PostgreSQL (issue #12): run with QLRF_DATABASE_URL=postgres://…")


def _env(settings) -> dict:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "qlrf.settings.test",
        "QLRF_DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "QLRF_REDIS_URL": settings.REDIS_URL,
        "QLRF_EVENTS_TRANSPORT": "redis",
        "QLRF_EVENTS_REDIS_STREAM": settings.QLRF_EVENTS_REDIS_STREAM,
        "QLRF_EVENTS_INBOUND_STREAM": settings.QLRF_EVENTS_INBOUND_STREAM,
        "QLRF_EVENTS_POLL_SECONDS": "0",
    }


class Forker:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", FORKER],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.pids: list[int] = []

    def start(self, command: str) -> int:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line.startswith("pid "), f"the forking manage.py process died: {line!r}"
        self.pids.append(int(line.split()[1]))
        return self.pids[-1]

    def close(self) -> None:
        for pid in self.pids:  # none may outlive the test, whatever failed
            _kill(pid)
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)


def _kill(pid: int) -> bool:
    """SIGKILL the child; True when it was still running (killed mid-work, not after it had died on its own)."""
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return alive


def _final_run(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _writer(organizations, stop: threading.Event, written: list) -> None:
    """Commit events (1–3 per transaction, two tenants) until told to stop."""
    rng = random.Random(SEED + 1)
    try:
        while not stop.is_set():
            with transaction.atomic():
                for _ in range(rng.randint(1, 3)):
                    n = len(written)
                    organization = organizations[n % len(organizations)]
                    event = emit(
                        organization=organization, type="image.version.published",
                        payload={"family": "ubuntu-22.04", "version": f"2026.1.{n}", "status": "published"},
                        subject=f"ubuntu-22.04@2026.1.{n}",
                    )  # fmt: skip
                    written.append(str(event.id))
            time.sleep(rng.uniform(0, 0.004))
    finally:
        connection.close()


def test_relay_killed_twenty_times_under_writes_publishes_every_event_once_after_dedup(
    on_postgres, redis_bus, settings, tenant_a, tenant_b
):
    env = _env(settings)
    rng = random.Random(SEED)
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_writer, args=([tenant_a.organization, tenant_b.organization], stop, written))
    forker = Forker(env)
    writer.start()
    killed_running = 0
    try:
        for _ in range(KILLS):
            pid = forker.start("relay")
            time.sleep(rng.uniform(0.05, 0.5))
            killed_running += _kill(pid)
    finally:
        stop.set()
        writer.join(timeout=30)
        forker.close()
    assert killed_running == KILLS, "every kill must hit a running relay"
    assert len(written) > 200, "the writes must keep coming while the relay is killed"
    published_before_final = OutboxEvent.objects.filter(published_at__isnull=False).count()
    assert published_before_final > 0, "the killed relays published nothing: the kills proved nothing"

    out = _final_run(env, "events_relay", "--once")
    assert out.strip().endswith("backlog 0")
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()

    entries = redis_bus.xrange(settings.QLRF_EVENTS_REDIS_STREAM)
    stream_ids = [fields[b"id"].decode() for _entry, fields in entries]
    assert set(stream_ids) == set(written)  # every event at least once, nothing that was never written
    applied, seen = [], set()  # a consumer that deduplicates by id
    for _entry, fields in entries:
        envelope = json.loads(fields[b"event"])
        if envelope["id"] in seen:
            continue
        seen.add(envelope["id"])
        applied.append(envelope)
    assert sorted(e["id"] for e in applied) == sorted(written)  # each exactly once
    for organization in (tenant_a.organization, tenant_b.organization):
        sequences = sorted(e["sequence"] for e in applied if e["organization"] == organization.slug)
        assert sequences == list(range(1, len(sequences) + 1))  # per-tenant order: no gap, no repeat
    # A republished event (killed before commit) carries the same sequence as its first publication.
    by_id = {}
    for _entry, fields in entries:
        envelope = json.loads(fields[b"event"])
        assert by_id.setdefault(envelope["id"], envelope["sequence"]) == envelope["sequence"]


def _build_event(contract: str, n: int) -> str:
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/ci/packer", "type": "image.build.completed",
        "organization": "alpha", "datacontenttype": "application/json",
        "data": {"contract": contract, "version": f"2026.4.{n}", "sbom_ref": "s3://sboms/x.json",
                 "artifacts": [{"platform": "aws", "image_ref": f"ami-{n:017d}", "region": "eu-west-1",
                                "account": "111111111111"}]},
    })  # fmt: skip


def test_consumer_killed_mid_batch_applies_every_inbound_event_exactly_once(
    on_postgres, redis_bus, settings, tenant_a, ubuntu_contract
):
    env = _env(settings)
    rng = random.Random(SEED + 2)
    stream = settings.QLRF_EVENTS_INBOUND_STREAM
    bodies = [_build_event(ubuntu_contract, n) for n in range(150)]
    for n, body in enumerate(bodies):
        redis_bus.xadd(stream, {"event": body})
        if n % 10 == 0:
            redis_bus.xadd(stream, {"event": body})  # redelivered by the producer too
    forker = Forker(env)
    kills = []
    try:
        for _ in range(6):
            pid = forker.start("consume")
            time.sleep(rng.uniform(0.3, 1.2))
            processed = InboundProcessed.objects.count()
            kills.append((_kill(pid), processed))
    finally:
        forker.close()
    mid_batch = [processed for alive, processed in kills if alive and 0 < processed < len(bodies)]
    assert mid_batch, f"no kill landed while the consumer was working: {kills}"

    out = _final_run(env, "events_consume", "--once", "--consumer", "crash-1")
    assert list(DeadLetter.objects.values_list("reason", flat=True)[:3]) == [], out
    assert InboundProcessed.objects.count() == len(bodies)
    assert ImageVersion.objects.filter(organization=tenant_a.organization).count() == len(bodies)
    assert OutboxEvent.objects.filter(type="image.version.registered").count() == len(bodies)  # none applied twice
    assert DeadLetter.objects.count() == 0
    assert redis_bus.xpending(stream, "qlrf")["pending"] == 0
