"""Load test of ``GET /api/v1/drift`` with two tenants (noisy neighbour) and writes landing during the load.

Run: ``.venv/bin/python -m bench.api_load --count 100000 [--reuse] [--redis-url redis://127.0.0.1:6379/9]``.
It builds (or with ``--reuse`` keeps) the drift benchmark's fleet in the *quiet* organisation and a small *loud* one
with its own read limit (a ``RateLimitPolicy`` row, as the admin writes it), then serves the project with gunicorn
(2 sync workers, production settings) sharing Redis for the cache and the rate-limit counters, and measures:

- **A** the quiet tenant alone: ``--quiet-clients`` closed-loop clients on ``GET /api/v1/drift`` (cached answers);
- **B** the same while the loud tenant sends ``--loud-factor`` (10) × its read limit, open loop, from another process:
  the quiet p95 over A's (goal ≤ 1.2), the loud tenant's 429s, and no 5xx anywhere;
- **C** the quiet load while scans (``scan_create`` + ``scan_execute``) and promotions (``channel_promote``) land
  every ``--write-every`` seconds from another process: each bumps the generation, so the next reads miss and rebuild
  the report. p95 of every request, of the requests not overlapping a rebuild, and what a miss costs.

Only the Redis database of ``--redis-url`` is flushed (refused: database 0). Results go to ``var/bench/``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from bench import drift
from bench._common import (
    RESULT_MARKER,
    BenchError,
    ensure_database,
    environment,
    migrate,
    percentile,
    print_table,
    report_phase,
    settle,
    setup_django,
    write_results,
)

MODULE = "bench.api_load"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qlrf_bench_apiload"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
QUIET_SLUG, LOUD_SLUG = drift.ORG_SLUG, "bench-loud"
BURST_CONNECTOR, BURST_ASSETS = "bench-burst", 200
PROMOTED = ("ubuntu-2204-base", "dev", ("1.2.0", "1.3.0"))  # toggled back and forth by the writer
PATH = "/api/v1/drift"
GOAL_NOISY_RATIO, GOAL_API_P95_MS = 1.2, 100.0


# --- the two tenants -------------------------------------------------------------------------------------------------


def redis_db(url: str) -> int:
    """The database number of a ``redis://`` URL; refuse 0 (shared by default) and anything not a URL with one."""
    parts = urlsplit(url)
    number = parts.path.lstrip("/")
    if parts.scheme not in ("redis", "rediss") or not number.isdigit() or int(number) == 0:
        raise BenchError(f"give a Redis URL with a database number of its own (not 0), got {url!r}: it is flushed")
    return int(number)


def flush_redis(url: str) -> None:
    import redis

    redis_db(url)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"cannot reach Redis at {url}: {exc}") from None


def drop_burst_assets() -> None:
    """Keep the quiet fleet at ``--count`` for ``--reuse``: the writer's connector's assets go at the end."""
    from apps.inventory.models import Asset

    Asset.objects.filter(organization__slug=QUIET_SLUG, connector__name=BURST_CONNECTOR).delete()


def set_read_limit(organization, rate: str) -> None:
    """The organisation's read limit for itself and for each token, validated and saved as the admin does."""
    from apps.tenancy.choices import EndpointClassChoices
    from apps.tenancy.models import RateLimitPolicy
    from qlrf.api.throttling import forget_organization_rates

    policy = RateLimitPolicy.objects.filter(
        organization=organization, endpoint_class=EndpointClassChoices.READS
    ).first() or RateLimitPolicy(organization=organization, endpoint_class=EndpointClassChoices.READS)
    policy.organization_rate = policy.principal_rate = rate
    policy.full_clean()
    policy.save()
    forget_organization_rates(organization.pk)


def prepare_tenants(args) -> dict:
    """The quiet organisation (the drift fleet), the loud one, their read limits, tokens and the writer's connector."""
    from apps.inventory.models import Connector
    from apps.inventory.services import connector_create
    from apps.tenancy.models import Organization
    from apps.tenancy.services import environment_create, organization_create, token_create

    if Organization.objects.filter(slug=QUIET_SLUG).exists():
        drop_burst_assets()
    loaded = drift.prepare(args)
    quiet = Organization.objects.get(pk=loaded["organization"])
    loud = Organization.objects.filter(slug=LOUD_SLUG).first()
    if loud is None:
        loud = organization_create(actor=None, name="Benchmark (loud)", slug=LOUD_SLUG)
        environment_create(actor=None, organization=loud, name="Prod", slug="prod", tier="prod")
    set_read_limit(quiet, args.quiet_limit)
    set_read_limit(loud, args.loud_limit)
    burst = Connector.objects.filter(organization=quiet, name=BURST_CONNECTOR).first()
    if burst is None:
        config = {**drift.connector_config("aws", args.count, args.seed), "count": BURST_ASSETS, "accounts": 1}
        config["regions"] = {"aws": ["eu-west-1"]}
        burst = connector_create(
            actor=None,
            organization=quiet,
            platform="synthetic",
            name=BURST_CONNECTOR,
            config=config,
            environment_rules={"tag": "Environment", "default": "dev"},
        )
    stamp = time.time_ns()
    return {
        **loaded,
        "quiet": quiet.pk,
        "loud": loud.pk,
        "burst_connector": burst.pk,
        "quiet_token": token_create(actor=None, organization=quiet, name=f"quiet-{stamp}", role="viewer")[1],
        "loud_token": token_create(actor=None, organization=loud, name=f"loud-{stamp}", role="viewer")[1],
    }


# --- clients ---------------------------------------------------------------------------------------------------------


def headers_for(token: str) -> dict:
    return {"Host": "127.0.0.1", "Authorization": f"Bearer {token}", "Accept": "application/json"}


def get(port: int, headers: dict, timeout: float) -> tuple[int, float, float, str]:
    """One GET on a new connection: (status, start on the wall clock, seconds, ETag)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    wall, start = time.time(), time.perf_counter()
    try:
        conn.request("GET", PATH, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, wall, time.perf_counter() - start, response.getheader("ETag") or ""
    finally:
        conn.close()


def closed_loop(port: int, token: str, *, clients: int, seconds: float) -> list[tuple[int, float, float, str]]:
    """``clients`` threads issuing GETs back to back for ``seconds``; every answer (status, start, seconds, tag)."""
    headers, records, lock = headers_for(token), [], threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            try:
                record = get(port, headers, timeout=seconds + 120)
            except OSError as exc:
                record = (-1, time.time(), 0.0, f"{type(exc).__name__}: {exc}")
            with lock:
                records.append(record)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 300)
    return records


def open_loop(port: int, token: str, *, rate: float, seconds: float, threads: int) -> dict:
    """``rate`` GETs per second on a fixed schedule (not waiting for answers), spread over ``threads``."""
    headers, statuses, lock = headers_for(token), Counter(), threading.Lock()
    refused_ms: list[float] = []
    start = time.monotonic()
    interval = threads / rate

    def sender(offset: float):
        due = start + offset
        while due < start + seconds:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                status, _wall, elapsed, _tag = get(port, headers, timeout=60)
            except OSError:
                status, elapsed = -1, 0.0
            with lock:
                statuses[status] += 1
                if status == 429:
                    refused_ms.append(elapsed * 1000)
            due += interval

    workers = [threading.Thread(target=sender, args=(i / rate,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 120)
    refused_ms.sort()
    return {
        "rate": rate,
        "seconds": round(time.monotonic() - start, 2),
        "sent": sum(statuses.values()),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "refused_p50_ms": percentile(refused_ms, 50),
        "refused_p95_ms": percentile(refused_ms, 95),
    }


def latency_stats(records: list, seconds: float | None = None) -> dict:
    ms = sorted(r[2] * 1000 for r in records if r[0] == 200)
    statuses = Counter(r[0] for r in records)
    return {
        "requests": len(records),
        "ok": len(ms),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500 or k < 0),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": round(ms[-1], 1) if ms else None,
        "throughput_rps": round(len(ms) / seconds, 1) if seconds else None,
    }


def split_misses(records: list) -> dict:
    """Tell the requests a rebuild delayed from the rest, by the entity tag each answer carries.

    A rebuild mints a new tag. For each tag after the first, its *miss window* runs from the start of the earliest
    request that came back with it and started before the first such answer completed (the requests that computed
    it or queued behind that computation), to the end of the last of those. A request overlapping any window counts
    as "with misses"; the others were served from the cache undisturbed.
    """
    ok = sorted((r for r in records if r[0] == 200), key=lambda r: r[1])
    if not ok:
        return {"tags": 0, "windows": [], "hits": latency_stats([]), "affected": latency_stats([])}
    first_tag = ok[0][3]
    first_end: dict[str, float] = {}
    for _status, wall, seconds, tag in ok:
        first_end[tag] = min(first_end.get(tag, float("inf")), wall + seconds)
    windows = []
    for tag, end in first_end.items():
        if tag == first_tag:
            continue
        builders = [r for r in ok if r[3] == tag and r[1] < end]
        windows.append((min(r[1] for r in builders), max(r[1] + r[2] for r in builders), len(builders)))
    windows.sort()

    def overlaps(record) -> bool:
        begin, finish = record[1], record[1] + record[2]
        return any(begin < w_end and finish > w_start for w_start, w_end, _ in windows)

    affected = [r for r in ok if overlaps(r)]
    hits = [r for r in ok if not overlaps(r)]
    first_answers = sorted(
        min((r for r in ok if r[3] == tag), key=lambda r: r[1] + r[2])[2] * 1000 for tag in first_end
    )
    return {
        "tags": len(first_end),
        "windows": [{"seconds": round(e - s, 3), "requests": n} for s, e, n in windows],
        "hits": latency_stats(hits),
        "affected": latency_stats(affected),
        "first_answer_of_each_build_ms": [round(x, 1) for x in first_answers],
    }


# --- phases in their own processes: the loud tenant and the writer ----------------------------------------------------


READY_MARKER = "BENCH-READY"


def ready() -> None:
    """Tell the orchestrator this phase process is up (interpreter, imports, Django): its clock starts now."""
    print(READY_MARKER, flush=True)


def phase_loud(args) -> dict:
    ready()
    return open_loop(args.port, args.token, rate=args.rate, seconds=args.seconds, threads=args.loud_threads)


def phase_writer(args) -> dict:
    """Every ``--write-every`` seconds one write through the services, alternating a scan and a promotion."""
    from apps.images.models import Channel, ImageVersion
    from apps.images.services import channel_promote
    from apps.inventory.models import Connector
    from apps.inventory.services import scan_create, scan_execute
    from qlrf.cache_generation import generation

    family, env, versions = PROMOTED
    connector = Connector.objects.select_related("organization").get(pk=args.connector)
    channel = Channel.objects.select_related("environment").get(
        organization=connector.organization, family__slug=family, environment__slug=env
    )
    candidates = {
        v.version: v
        for v in ImageVersion.objects.filter(
            organization=connector.organization, family__slug=family, version__in=versions
        )
    }
    writes = []
    ready()
    start = time.monotonic()
    for n in range(10_000):
        due = start + (n + 0.5) * args.write_every
        if due > start + args.seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        began, wall, before = time.perf_counter(), time.time(), generation(connector.organization)
        if n % 2 == 0:
            run = scan_execute(run=scan_create(actor=None, connector=connector, trigger="cli"))
            kind, outcome = "scan", run.status
        else:
            channel.refresh_from_db()
            target = candidates[versions[0] if channel.version_id == candidates[versions[1]].pk else versions[1]]
            channel_promote(actor=None, version=target, environment=channel.environment)
            kind, outcome = "promotion", target.version
        seconds, bumps = round(time.perf_counter() - began, 3), generation(connector.organization) - before
        writes.append({"kind": kind, "at": wall, "seconds": seconds, "outcome": outcome, "generation_bumps": bumps})
    return {"writes": writes}


def start_phase(phase: str, args: list[str]) -> subprocess.Popen:
    """Start a phase process and return once it reports it is ready (so its work overlaps the measured load)."""
    command = [sys.executable, "-m", MODULE, "--phase", phase, *args]
    process = subprocess.Popen(command, cwd=drift.ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    for line in process.stdout:
        if line.strip() == READY_MARKER:
            return process
    process.wait(30)
    raise BenchError(f"phase {phase} ended before it was ready (exit {process.returncode}); see its stderr above")


def finish_phase(process: subprocess.Popen, phase: str) -> dict:
    out = process.stdout.read()
    process.wait(900)
    lines = [line for line in out.splitlines() if line.startswith(RESULT_MARKER)]
    if process.returncode != 0 or not lines:
        raise BenchError(f"phase {phase} failed (exit {process.returncode}); see its stderr above")
    return json.loads(lines[-1][len(RESULT_MARKER) :])


# --- the orchestrating process ---------------------------------------------------------------------------------------


def rate_per_second(rate: str) -> float:
    from limits import parse

    item = parse(rate)
    return item.amount / item.get_expiry()


def measure(args) -> dict:
    tenants = prepare_tenants(args)
    settle("inventory_asset", "inventory_scanrun", "images_channelassignment", "images_imageversion")
    flush_redis(args.redis_url)  # no counter, no cached report, no rate-limit window from earlier runs
    quiet_token, loud_token = tenants.pop("quiet_token"), tenants.pop("loud_token")
    loud_rate = rate_per_second(args.loud_limit) * args.loud_factor
    payload: dict = {"tenants": tenants, "loud_rate_rps": loud_rate}
    serving = drift.serve(
        args.database_url, redis_url=args.redis_url, conn_max_age=args.conn_max_age, log_level="ERROR"
    )  # ERROR: no log line per 429
    with serving as server:
        port = server.port
        for token in (quiet_token, loud_token):
            for _ in range(4):  # both workers: imports, first connection, the first build
                status = get(port, headers_for(token), 600)[0]
                if status != 200:
                    raise BenchError(f"GET {PATH} answered {status} while warming up")
        loads = [os.getloadavg()[0]]
        alone = closed_loop(port, quiet_token, clients=args.quiet_clients, seconds=args.seconds)
        loads.append(os.getloadavg()[0])
        time.sleep(1.5)  # the loud tenant's limit window starts empty
        loud = start_phase(
            "loud",
            ["--port", str(port), "--token", loud_token, "--rate", str(loud_rate), "--seconds", str(args.seconds + 2)],
        )
        noisy = closed_loop(port, quiet_token, clients=args.quiet_clients, seconds=args.seconds)
        loads.append(os.getloadavg()[0])
        loud_result = finish_phase(loud, "loud")
        writer = start_phase(
            "writer",
            [
                "--database-url", args.database_url, "--redis-url", args.redis_url,
                "--connector", str(tenants["burst_connector"]),
                "--seconds", str(args.seconds), "--write-every", str(args.write_every),
            ],
        )  # fmt: skip
        writes = closed_loop(port, quiet_token, clients=args.quiet_clients, seconds=args.seconds)
        loads.append(os.getloadavg()[0])
        writer_result = finish_phase(writer, "writer")
        payload["worker_peak_rss_mb"] = drift._children_peak_rss(server.pid)
    drop_burst_assets()
    a, b = latency_stats(alone, args.seconds), latency_stats(noisy, args.seconds)
    payload["phases"] = {
        "quiet_alone": a,
        "quiet_with_loud": b,
        "loud": loud_result,
        "quiet_with_writes": {**latency_stats(writes, args.seconds), "split": split_misses(writes)},
        "writes": writer_result["writes"],
    }
    payload["loadavg_1min"] = loads  # before A, after A, after B, after C
    return payload


def summarise(payload: dict) -> dict:
    p = payload["phases"]
    a, b, c, loud = p["quiet_alone"], p["quiet_with_loud"], p["quiet_with_writes"], p["loud"]
    ratio = round(b["p95_ms"] / a["p95_ms"], 2) if a["p95_ms"] and b["p95_ms"] else None
    loud_5xx = sum(v for k, v in loud["statuses"].items() if int(k) >= 500 or int(k) < 0)
    split = c["split"]
    hit_p50, builds = split["hits"]["p50_ms"], split["first_answer_of_each_build_ms"][1:]
    return {
        "quiet_p95_alone_ms": a["p95_ms"],
        "quiet_p95_with_loud_ms": b["p95_ms"],
        "noisy_ratio": ratio,
        "noisy_ratio_ok": ratio is not None and ratio <= GOAL_NOISY_RATIO,
        "loud_sent": loud["sent"],
        "loud_429": loud["statuses"].get("429", 0),
        "loud_200": loud["statuses"].get("200", 0),
        "server_errors": a["server_errors"] + b["server_errors"] + c["server_errors"] + loud_5xx,
        "writes": len(p["writes"]),
        "p95_with_misses_ms": c["p95_ms"],
        "p95_without_misses_ms": split["hits"]["p95_ms"],
        "p95_requests_in_miss_windows_ms": split["affected"]["p95_ms"],
        "miss_first_answer_median_ms": percentile(sorted(builds), 50),
        "hit_p50_ms": hit_p50,
        "api_p95_ok": bool(a["p95_ms"] is not None and a["p95_ms"] < GOAL_API_P95_MS),
    }


def show(payload: dict) -> None:
    p, s = payload["phases"], payload["summary"]
    print(
        f"\napi_load, {payload['rows']:,} assets (quiet org), gunicorn 2 workers + Redis, {payload['quiet_clients']} "
        f"quiet clients, {payload['seconds']:.0f} s per phase; load average {payload['loadavg_1min']}\n"
    )
    rows = []
    for label, key in (
        ("A quiet alone", "quiet_alone"),
        ("B quiet, loud tenant at 10x its limit", "quiet_with_loud"),
        ("C quiet, writes landing (all)", "quiet_with_writes"),
    ):
        r = p[key]
        rows.append([label, r["ok"], r["server_errors"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["throughput_rps"]])
    split = p["quiet_with_writes"]["split"]
    for label, r in (
        ("C   not overlapping a rebuild", split["hits"]),
        ("C   overlapping a rebuild", split["affected"]),
    ):
        rows.append([label, r["ok"], r["server_errors"], r["p50_ms"], r["p95_ms"], r["p99_ms"], ""])
    print_table(["phase", "ok", "5xx/errors", "p50 ms", "p95 ms", "p99 ms", "req/s"], rows)
    loud = p["loud"]
    print(
        f"\nloud tenant: {loud['sent']} sent at {loud['rate']:.0f}/s, statuses {loud['statuses']}, "
        f"429 p95 {loud['refused_p95_ms']} ms"
    )
    kinds = Counter(w["kind"] for w in p["writes"])
    print(
        f"writes: {dict(kinds)}, each {[w['seconds'] for w in p['writes']]} s, generation bumps "
        f"{[w['generation_bumps'] for w in p['writes']]}; {split['tags']} report builds seen, their first answers "
        f"{split['first_answer_of_each_build_ms']} ms"
    )
    verdict = "met" if s["noisy_ratio_ok"] else "MISSED"
    print(
        f"\ngoal quiet p95 with the loud tenant <= {GOAL_NOISY_RATIO}x alone: {verdict} ({s['noisy_ratio']}x: "
        f"{s['quiet_p95_alone_ms']} -> {s['quiet_p95_with_loud_ms']} ms); loud 429s: {s['loud_429']}; "
        f"5xx: {s['server_errors']}"
    )
    print(
        f"p95 with misses {s['p95_with_misses_ms']} ms, without {s['p95_without_misses_ms']} ms; a miss's first "
        f"answer (median) {s['miss_first_answer_median_ms']} ms vs hit p50 {s['hit_p50_ms']} ms"
    )
    print(
        f"goal API p95 < {GOAL_API_P95_MS:.0f} ms (quiet alone): {'met' if s['api_p95_ok'] else 'MISSED'} "
        f"({s['quiet_p95_alone_ms']} ms)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="assets of the quiet organisation (default 100000)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database named qlrf_bench*")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database of its own: it is flushed")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="keep the fleet of a previous run with the same count")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase (default 60)")
    parser.add_argument("--quiet-clients", type=int, default=16, help="closed-loop clients of the quiet tenant")
    parser.add_argument("--quiet-limit", default="100000/minute", help="the quiet tenant's read limit")
    parser.add_argument("--loud-limit", default="5/second", help="the loud tenant's read limit (org and token)")
    parser.add_argument("--loud-factor", type=float, default=10.0, help="the loud tenant sends this many times it")
    parser.add_argument("--loud-threads", type=int, default=8, help=argparse.SUPPRESS)
    parser.add_argument("--write-every", type=float, default=10.0, help="seconds between writes in phase C")
    parser.add_argument("--conn-max-age", type=int, default=0, help="QLRF_DATABASE_CONN_MAX_AGE of the workers")
    parser.add_argument("--phase", choices=["loud", "writer"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--connector", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.loader = "copy"  # drift.prepare's fleet loader
    if args.count < 1000:
        parser.error("--count must be at least 1000")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    redis_db(args.redis_url)
    os.environ["QLRF_REDIS_URL"] = args.redis_url  # the writer bumps the generations the workers read
    if args.phase == "loud":
        report_phase({"phase": "loud", **phase_loud(args)})
        return
    if args.phase == "writer":
        setup_django(args.database_url)
        report_phase({"phase": "writer", **phase_writer(args)})
        return
    created = ensure_database(args.database_url)
    setup_django(args.database_url)
    migrate()
    payload = {"benchmark": "api_load", "database_created": created, "environment": environment()}
    payload |= {"command": " ".join(["python -m", MODULE, *(argv if argv is not None else sys.argv[1:])])}
    payload |= {"rows": args.count, "seconds": args.seconds, "quiet_clients": args.quiet_clients}
    payload |= {"limits": {"quiet": args.quiet_limit, "loud": args.loud_limit, "loud_factor": args.loud_factor}}
    payload |= measure(args)
    payload["summary"] = summarise(payload)
    path = write_results(f"api_load-{args.count}", payload)
    show(payload)
    print(f"results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
