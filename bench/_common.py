"""Shared benchmark plumbing: the dedicated PostgreSQL database, Django setup, phases in fresh processes, RSS, output.

Every benchmark runs against its own database (``qlrf_bench`` by default), never the development SQLite file or a
test database: ``ensure_database`` refuses any PostgreSQL database whose name does not start with ``qlrf_bench``,
because the benchmarks truncate tenant tables. Each measured phase runs in a fresh subprocess (``run_phase``) so its
peak RSS (``ru_maxrss``) belongs to that phase alone and no phase inherits another's caches or garbage.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qlrf_bench"
DATABASE_PREFIX = "qlrf_bench"
SETTINGS_MODULE = "qlrf.settings.development"
RESULT_MARKER = "BENCH-RESULT "


class BenchError(SystemExit):
    """A benchmark cannot run or its result is not trustworthy: exits non-zero with one readable line."""

    def __init__(self, message: str):
        super().__init__(f"bench: {message}")


def database_name(url: str) -> str:
    """The database name of a ``postgres://`` URL; refuse anything else or a name outside ``qlrf_bench*``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchError(f"the benchmarks need PostgreSQL, got a {parts.scheme or 'schemeless'} URL")
    name = unquote(parts.path.lstrip("/"))
    if not name.startswith(DATABASE_PREFIX):
        raise BenchError(f"refusing database {name!r}: benchmark databases are named {DATABASE_PREFIX}* (it is wiped)")
    return name


def ensure_database(url: str) -> bool:
    """Create the benchmark database if it is missing; return whether it was created."""
    import psycopg
    from psycopg import sql as pgsql

    name = database_name(url)
    parts = urlsplit(url)
    maintenance = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return False
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
            return True
    except psycopg.OperationalError as exc:
        raise BenchError(f"cannot reach PostgreSQL at {parts.hostname}:{parts.port or 5432}: {exc}") from None


def setup_django(url: str) -> None:
    """Point the development settings at the benchmark database (DEBUG off: no query log) and set Django up."""
    database_name(url)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["QLRF_DATABASE_URL"] = url
    # DEBUG keeps every SQL string (a bulk INSERT of 1000 rows is ~0.5 MB) in connection.queries: not what we measure.
    os.environ["QLRF_DEBUG"] = "false"
    import django

    django.setup()


def migrate() -> None:
    """Bring the benchmark database to the current migrations."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def sql(statement: str, params: Sequence | None = None) -> list[tuple]:
    """Run one statement on the default connection (autocommit) and return its rows, if any."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def settle(*tables: str) -> None:
    """Level the ground before a timed phase: VACUUM ANALYZE the given tables, then CHECKPOINT."""
    for table in tables:
        sql(f'VACUUM ANALYZE "{table}"')
    sql("CHECKPOINT")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"/proc/self/status has no {field} (the benchmarks measure memory on Linux)")


def rss_mb() -> float:
    """Current resident set size of this process in MiB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident set size in MiB since exec or the last ``reset_peak_rss`` (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across fork + exec into the child's ``ru_maxrss``,
    so a phase process would report the orchestrator's size.
    """
    return _status_mb("VmHWM")


def reset_peak_rss() -> None:
    """Reset ``VmHWM`` to the current RSS (``/proc/self/clear_refs`` = 5), so the next peak is the phase's own."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


@contextlib.contextmanager
def timed() -> Iterator[dict]:
    """Measure the block's wall time into ``result["seconds"]`` and this process's CPU time into ``cpu_seconds``.

    The CPU time is the Python side only (the database server works in its own processes); next to the wall time it
    shows how much of a phase is the client.
    """
    result: dict = {}
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu


def report_phase(result: dict) -> None:
    """Called by a phase subprocess: print its result (with its peak RSS since ``reset_peak_rss``) for ``run_phase``."""
    result = {**result, "peak_rss_mb": round(peak_rss_mb(), 1)}
    print(RESULT_MARKER + json.dumps(result, default=str), flush=True)


def run_phase(module: str, phase: str, args: Sequence[str]) -> dict:
    """Run ``python -m module --phase phase *args`` in a fresh process and return the result it reported."""
    command = [sys.executable, "-m", module, "--phase", phase, *args]
    load_before = os.getloadavg()[0]
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        raise BenchError(f"phase {phase} failed (exit {completed.returncode}); see its stderr above")
    # The 1-minute load average around the phase: other work on the machine makes wall times noisy.
    return {**json.loads(lines[-1][len(RESULT_MARKER) :]), "loadavg": [load_before, os.getloadavg()[0]]}


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of already sorted values, rounded to 0.1; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return round(sorted_values[int(rank) - 1], 1)


def environment() -> dict:
    """Where the numbers were measured: interpreter, machine, PostgreSQL server, code revision."""
    head = ROOT / ".git" / "HEAD"
    revision = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "postgresql": sql("SHOW server_version")[0][0],
        "revision": revision or (head.read_text().strip() if head.exists() else ""),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, payload: dict) -> Path:
    """Write ``payload`` as JSON to ``var/bench/<name>-<UTC timestamp>.json`` and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
