"""Event relay benchmark: outbox → Redis Streams throughput against a raw pipelined XADD, and commit → published p95.

Three measurements in one run against a dedicated ``qlrf_bench*`` PostgreSQL database and a Redis database of its own:

* raw: the same entries (``entry_fields`` of the same envelopes) XADDed in pipelines of PIPELINE_SIZE events (the
  redis transport's own), encoded beforehand, no database;
* relay: ``relay_pass`` over ``--count`` pending events (read, sequence, publish, bulk-update positions);
* latency: a writer commits events at ``--rate`` per second for ``--seconds`` while ``relay_run`` polls; per event,
  ``published_at − occurred_at`` (``occurred_at`` is set in the writer's transaction just before its commit).

Goal (issue #12): relay ≥ 0.5× raw and ≥ 5,000 events/s.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid

from bench._common import (
    DEFAULT_DATABASE_URL,
    ensure_database,
    environment,
    migrate,
    percentile,
    print_table,
    setup_django,
    sql,
    write_results,
)

MODULE = "bench.events_relay"
GOAL_RATIO = 0.5
GOAL_RATE = 5_000
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _organization():
    from apps.tenancy.models import Organization

    organization, _ = Organization.objects.get_or_create(slug="bench-events", defaults={"name": "Bench events"})
    return organization


def prepare(count: int, organization) -> list:
    """Empty the outbox and write ``count`` pending events (bulk, like many committed transactions would)."""
    from django.utils import timezone

    from apps.events.models import EventStream, OutboxEvent

    sql('TRUNCATE "events_outboxevent" CASCADE')
    EventStream.objects.filter(organization=organization).update(last_sequence=0)
    now = timezone.now()
    events = [
        OutboxEvent(
            id=uuid.uuid4(),
            organization=organization,
            type="image.version.published",
            occurred_at=now,
            subject=f"ubuntu-22.04@2026.1.{n}",
            payload={"family": "ubuntu-22.04", "version": f"2026.1.{n}", "status": "published"},
        )  # fmt: skip
        for n in range(count)
    ]
    OutboxEvent.objects.bulk_create(events, batch_size=2000)
    sql('VACUUM ANALYZE "events_outboxevent"')
    return events


def measure_raw(client, stream: str, events: list, maxlen: int) -> float:
    """Pipelined XADD of the entries the relay would write, encoded beforehand, PIPELINE_SIZE per pipeline (the
    redis transport's own); returns seconds."""
    from apps.events.services.relay import outgoing
    from apps.events.transports.redis import PIPELINE_SIZE, entry_fields

    for n, event in enumerate(events):
        event.sequence = n + 1
    entries = [entry_fields(outgoing(event)) for event in events]
    start = time.perf_counter()
    for offset in range(0, len(entries), PIPELINE_SIZE):
        pipe = client.pipeline(transaction=False)
        for fields in entries[offset : offset + PIPELINE_SIZE]:
            pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)
        pipe.execute()
    return time.perf_counter() - start


def measure_relay(transport, batch_size: int) -> tuple[float, int]:
    from apps.events.services.relay import relay_pass

    start = time.perf_counter()
    published = relay_pass(transport, batch_size=batch_size)
    return time.perf_counter() - start, published


def measure_latency(transport, organization, rate: int, seconds: float) -> dict:
    """Writer at ``rate`` events/s (10 per transaction) while the relay runs; latency from the rows afterwards."""
    from django.db import connection, transaction

    from apps.events.models import OutboxEvent
    from apps.events.services import emit
    from apps.events.services.relay import relay_run

    sql('TRUNCATE "events_outboxevent" CASCADE')
    stop = threading.Event()

    def relay():
        try:
            relay_run(transport, poll=0.01, stop=stop.is_set)
        finally:
            connection.close()

    thread = threading.Thread(target=relay)
    thread.start()
    written, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            with transaction.atomic():
                for _ in range(10):
                    payload = {"family": "ubuntu-22.04", "version": f"2026.2.{written}", "status": "published"}
                    emit(organization=organization, type="image.version.published", payload=payload)
                    written += 1
            ahead = written / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
        deadline = time.perf_counter() + 30
        while OutboxEvent.objects.filter(published_at__isnull=True).exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)
    elapsed = time.perf_counter() - start
    rows = OutboxEvent.objects.filter(published_at__isnull=False).values_list("occurred_at", "published_at")
    latencies = sorted((published - occurred).total_seconds() * 1000 for occurred, published in rows)
    return {
        "written": written,
        "published": len(latencies),
        "offered_rate": round(written / elapsed),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def measure(args) -> dict:
    import redis
    from django.conf import settings

    from apps.events.transports import transport_get

    organization = _organization()
    client = redis.Redis.from_url(args.redis_url)
    tag = uuid.uuid4().hex[:8]
    raw_stream, relay_stream = f"bench:raw:{tag}", f"bench:events:{tag}"
    settings.REDIS_URL = args.redis_url
    settings.QLRF_EVENTS_REDIS_STREAM = relay_stream
    maxlen = max(settings.QLRF_EVENTS_REDIS_MAXLEN, args.count * 2)
    settings.QLRF_EVENTS_REDIS_MAXLEN = maxlen
    transport = transport_get("redis")
    rounds = []
    try:
        for _ in range(args.repeat):
            events = prepare(args.count, organization)
            raw_seconds = measure_raw(client, raw_stream, events, maxlen)
            relay_seconds, published = measure_relay(transport, args.batch_size)
            if published != args.count or client.xlen(relay_stream) < args.count:
                raise SystemExit(f"bench: the relay published {published} of {args.count}")
            rounds.append({"raw_seconds": raw_seconds, "relay_seconds": relay_seconds})
            client.delete(raw_stream, relay_stream)
        latency = measure_latency(transport, organization, args.rate, args.seconds)
    finally:
        client.delete(raw_stream, relay_stream)
        transport.close()
        client.close()
    raw = min(r["raw_seconds"] for r in rounds)
    relay = min(r["relay_seconds"] for r in rounds)
    return {
        "events": args.count,
        "batch_size": args.batch_size,
        "repeat": args.repeat,
        "rounds": rounds,
        "raw_seconds": round(raw, 3),
        "raw_events_per_s": round(args.count / raw),
        "relay_seconds": round(relay, 3),
        "relay_events_per_s": round(args.count / relay),
        "ratio": round(raw / relay, 2),
        "latency": latency,
    }


def show(payload: dict) -> None:
    lat = payload["latency"]
    print(
        f"\nevents_relay, {payload['events']:,} events, batch {payload['batch_size']}, best of {payload['repeat']} "
        f"(PostgreSQL {payload['environment']['postgresql']}, Redis Streams)\n"
    )
    print_table(
        ["path", "seconds", "events/s"],
        [
            ["raw pipelined XADD", f"{payload['raw_seconds']:.3f}", f"{payload['raw_events_per_s']:,}"],
            ["relay (outbox → stream)", f"{payload['relay_seconds']:.3f}", f"{payload['relay_events_per_s']:,}"],
        ],
    )
    print(
        f"\nlatency commit → published under {lat['offered_rate']:,} events/s offered: p50 {lat['p50_ms']} ms, "
        f"p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms ({lat['published']:,}/{lat['written']:,} published)"
    )
    ratio_ok = payload["ratio"] >= GOAL_RATIO
    rate_ok = payload["relay_events_per_s"] >= GOAL_RATE
    print(
        f"goal relay >= {GOAL_RATIO}x raw: {'met' if ratio_ok else 'MISSED'} ({payload['ratio']:.2f}x); "
        f">= {GOAL_RATE:,} events/s: {'met' if rate_ok else 'MISSED'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000, help="pending events to relay (default 50000)")
    parser.add_argument(
        "--batch-size", type=int, help="events per relay transaction (default QLRF_EVENTS_BATCH_SIZE); pipelines "
        "to Redis are PIPELINE_SIZE events for the relay and the raw path alike",
    )  # fmt: skip
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database named qlrf_bench*")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database for the bench streams")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the fastest of each path is reported")
    parser.add_argument("--rate", type=int, default=2_000, help="events/s the writer offers in the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency phase")
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1 or (args.batch_size is not None and args.batch_size < 1) or args.rate < 10:
        parser.error("--count, --repeat, --batch-size must be at least 1 and --rate at least 10")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    created = ensure_database(args.database_url)
    setup_django(args.database_url)
    migrate()
    if args.batch_size is None:
        from django.conf import settings

        args.batch_size = settings.QLRF_EVENTS_BATCH_SIZE
    payload = {"benchmark": "events_relay", "database_created": created, "environment": environment()}
    payload |= {"command": " ".join(["python -m", MODULE, *(argv if argv is not None else sys.argv[1:])])}
    payload |= measure(args)
    path = write_results(f"events_relay-{args.count}", payload)
    show(payload)
    print(f"results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
