"""The inventory benchmark's baseline writes what the sync writes; benchmarks refuse a non-benchmark database."""

import json

import pytest

from apps.inventory.models import Asset
from apps.inventory.services import scan_run_now
from bench._common import BenchError, database_name
from bench.inventory_sync import CHECKED, COLUMNS, connector_config, row_source
from tests.inventory.conftest import synthetic


def test_baseline_columns_are_every_asset_column_but_the_key():
    columns = {f.column for f in Asset._meta.concrete_fields if not f.primary_key}
    assert sorted(COLUMNS) == sorted(columns)
    assert len(COLUMNS) == len(set(COLUMNS))


@pytest.mark.django_db
def test_baseline_rows_equal_the_rows_the_sync_stored(tenant_a, envs, sites):
    config = connector_config(50, seed=3, accounts=2)
    connector = synthetic(tenant_a, name="bench", **config)
    run = scan_run_now(actor=None, connector=connector, trigger="cli")
    assert (run.status, run.new) == ("succeeded", 50)
    stored = {
        (a["platform"], a["account"], a["instance_id"]): a
        for a in Asset.objects.filter(organization=tenant_a.organization).values(*CHECKED)
    }
    rows = list(row_source(connector, run.pk, run.started_at))
    assert len(rows) == len(stored) == 50
    for row in rows:
        values = dict(zip(COLUMNS, row, strict=True))
        values["tags"] = json.loads(values["tags"])
        values["facts"] = json.loads(values["facts"])
        key = (values["platform"], values["account"], values["instance_id"])
        assert {c: values[c] for c in CHECKED} == stored[key]
        assert (values["first_seen"], values["last_seen"], values["last_scan_id"]) == (run.started_at,) * 2 + (run.pk,)
    assert {r[COLUMNS.index("environment_id")] for r in rows} == {e.pk for e in envs.values()}
    assert {r[COLUMNS.index("site_id")] for r in rows} == {None, sites["aws-eu"].pk, sites["aws-us"].pk}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///var/qlrf.sqlite3", "the benchmarks need PostgreSQL, got a sqlite URL"),
        ("postgres://postgres@127.0.0.1:5432/qlrf", "refusing database 'qlrf'"),
        ("postgres://postgres@127.0.0.1:5432/test_qlrf_bench", "refusing database 'test_qlrf_bench'"),
    ],
)
def test_only_a_qlrf_bench_database_is_accepted(url, message):
    with pytest.raises(BenchError) as caught:
        database_name(url)
    assert str(caught.value).startswith(f"bench: {message}")
    assert database_name("postgres://postgres@127.0.0.1:5432/qlrf_bench") == "qlrf_bench"


# --- every benchmark runs end to end at its smallest size ------------------------------------------------------------

SMOKE_SERVER = "postgres://postgres@127.0.0.1:5432"


def _postgres_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(f"{SMOKE_SERVER}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture
def smoke_database():
    """A benchmark database of this test's own (``qlrf_bench_smoke_<kind>_<random>``), dropped afterwards, so two
    suites running at once on one PostgreSQL server never share one."""
    import uuid

    names: list[str] = []

    def make(kind: str) -> str:
        names.append(f"qlrf_bench_smoke_{kind}_{uuid.uuid4().hex[:8]}")
        return f"{SMOKE_SERVER}/{names[-1]}"

    yield make
    import psycopg
    from psycopg import sql as pgsql

    for name in names:
        try:
            with psycopg.connect(f"{SMOKE_SERVER}/postgres", autocommit=True, connect_timeout=3) as conn:
                conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        except psycopg.OperationalError:
            pass


def _run_bench(module: str, *args: str) -> str:
    """Run ``python -m <module>`` like a developer would; fail with its output when it does not finish cleanly."""
    import subprocess
    import sys
    from pathlib import Path

    if not _postgres_reachable():
        pytest.skip(f"the benchmarks need the PostgreSQL server at {SMOKE_SERVER}")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=root, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{module} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_inventory_sync_benchmark_runs_at_small_size(smoke_database):
    out = _run_bench(
        "bench.inventory_sync", "--count", "300", "--accounts", "1",
        "--database-url", smoke_database("inventory"),
    )  # fmt: skip
    assert "rows identical to the baseline: True" in out
    assert "results: var/bench/inventory_sync-300-" in out


def test_drift_benchmark_runs_at_small_size_with_its_api_load(smoke_database):
    out = _run_bench(
        "bench.drift", "--count", "1000", "--repeat", "1", "--api-requests", "5", "--api-seconds", "2",
        "--database-url", smoke_database("drift"),
    )  # fmt: skip
    assert "drift, 1,000 assets in" in out
    assert "live: /api/v1/drift (16 clients)" in out
    assert "outdated pages (" in out and "goal page < 100 ms at any depth" in out
    assert "outdated CSV (" in out and "bytes equal to the Python writer's" in out
    assert "results: var/bench/drift-1000-" in out


def test_events_relay_benchmark_runs_at_small_size(smoke_database):
    out = _run_bench(
        "bench.events_relay", "--count", "500", "--batch-size", "500", "--repeat", "1", "--seconds", "1",
        "--rate", "200",
        "--database-url", smoke_database("events"), "--redis-url", "redis://127.0.0.1:6379/13",
    )  # fmt: skip
    assert "events_relay, 500 events, batch 500" in out
    assert "latency commit → published under" in out
    assert "results: var/bench/events_relay-500-" in out


def test_sbom_import_benchmark_runs_at_small_size(smoke_database):
    out = _run_bench(
        "bench.sbom_import", "--sizes", "50,100", "--repeat", "1", "--import",
        "--database-url", smoke_database("sbom"),
    )  # fmt: skip
    assert "sbom_import, sizes 50, 100 packages" in out
    for fmt in ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value", "spdx3-jsonld"):
        assert f"\n{fmt}" in out
    assert "json.loads + COPY" in out
    assert "results: var/bench/sbom_import-100-" in out


SMOKE_REDIS = "redis://127.0.0.1:6379/14"  # the API load benchmark flushes this database: no other test uses it


def test_api_load_benchmark_runs_at_small_size(smoke_database):
    import redis

    try:
        redis.Redis.from_url(SMOKE_REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError:
        pytest.skip(f"the API load benchmark shares its limits through Redis at {SMOKE_REDIS}")
    out = _run_bench(
        "bench.api_load", "--count", "1000", "--seconds", "4", "--write-every", "1", "--quiet-clients", "4",
        "--database-url", smoke_database("apiload"), "--redis-url", SMOKE_REDIS,
    )  # fmt: skip
    assert "api_load, 1,000 assets (quiet org), gunicorn 2 workers + Redis" in out
    assert "goal quiet p95 with the loud tenant <= 1.2x alone:" in out
    path = out.rsplit("results: ", 1)[1].strip()
    assert path.startswith("var/bench/api_load-1000-")
    from pathlib import Path

    summary = json.loads((Path(__file__).resolve().parents[1] / path).read_text())
    s, writes = summary["summary"], summary["phases"]["writes"]
    assert s["server_errors"] == 0
    assert s["loud_429"] > 0  # 10x its limit: refused, while the quiet tenant's requests all answered 200
    assert summary["phases"]["quiet_with_loud"]["statuses"] == {"200": summary["phases"]["quiet_with_loud"]["ok"]}
    assert {w["kind"] for w in writes} == {"scan", "promotion"}
    assert all(w["outcome"] in ("succeeded", "1.2.0", "1.3.0") and w["generation_bumps"] > 0 for w in writes)
    assert summary["phases"]["quiet_with_writes"]["split"]["tags"] > 1  # the writes made the next reads rebuild


def test_api_load_tells_requests_delayed_by_a_rebuild_from_cache_hits():
    from bench.api_load import redis_db, split_misses

    records = [  # (status, start, seconds, tag)
        (200, 0.0, 0.01, "a"),
        (200, 1.0, 0.01, "a"),
        (200, 2.0, 0.50, "b"),  # rebuilt after a write: the first answer with "b"
        (200, 2.1, 0.45, "b"),  # queued behind it
        (200, 2.3, 0.01, "a"),  # an old-tag answer in flight during the rebuild: overlaps the window
        (200, 3.0, 0.01, "b"),  # a hit of the new build
        (429, 3.5, 0.01, ""),
    ]
    split = split_misses(records)
    assert split["tags"] == 2
    assert split["windows"] == [{"seconds": 0.55, "requests": 2}]
    assert (split["hits"]["ok"], split["affected"]["ok"]) == (3, 3)
    assert split["first_answer_of_each_build_ms"] == [10.0, 500.0]
    assert redis_db("redis://127.0.0.1:6379/9") == 9
    for url in ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379", "memory://"):
        with pytest.raises(BenchError):
            redis_db(url)
