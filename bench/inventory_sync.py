"""Benchmark of ``inventory_sync`` against a COPY + one ``INSERT … ON CONFLICT`` baseline on the same rows.

Run: ``.venv/bin/python -m bench.inventory_sync --count 100000 [--database-url postgres://…/qlrf_bench]``.
One run prepares a throw-away organisation with a synthetic connector, then measures, each phase in a fresh process:
the first scan (all new) and a re-scan (all unchanged) through ``scan_run_now``, then the same rows written by the
baseline into the same (truncated) table, first-scan and re-scan. It checks that both wrote identical column values,
prints a table and writes the JSON to ``var/bench/``. ``--profile`` runs the sync phases under cProfile instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys

from bench._common import (
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    BenchError,
    ensure_database,
    environment,
    migrate,
    print_table,
    report_phase,
    reset_peak_rss,
    rss_mb,
    run_phase,
    settle,
    setup_django,
    sql,
    timed,
    write_results,
)

MODULE = "bench.inventory_sync"
ORG_SLUG = "bench-inventory"
GOAL_RATIO, GOAL_RSS_MB = 2.0, 300.0
GOAL_RESCAN_RATIO = 0.5  # issue #17: an unchanged machine costs a read, not a row update (ADR 026)
REGIONS = {
    "aws": ["eu-west-1", "us-east-1", "eu-central-1"],
    "azure": ["westeurope", "northeurope"],
    "gcp": ["europe-west1"],
    "vsphere": ["dc1"],
}
GALLERY = "/subscriptions/6F1C2A3B-4D5E-4F60-8A9B-0C1D2E3F4A5B/resourceGroups/RG-Golden/providers/Microsoft.Compute"
GCP_IMAGES = "https://www.googleapis.com/compute/v1/projects/acme-golden-images/global/images"
# (platform, image_ref, version registered for it or None = unmanaged, weight)
IMAGES = [
    ("aws", "ami-0bench000000000100", "1.0.0", 3),
    ("aws", "ami-0bench000000000110", "1.1.0", 6),
    ("aws", "ami-0bench0000000000ff", None, 1),
    ("azure", f"{GALLERY}/galleries/gal/images/ubuntu/versions/1.0.0", "1.0.0", 2),
    ("azure", f"{GALLERY}/galleries/gal/images/ubuntu/versions/1.1.0", "1.1.0", 7),
    ("gcp", f"{GCP_IMAGES}/ubuntu-2204-base-v1-1-0", "1.1.0", 8),
    ("gcp", f"{GCP_IMAGES}/ubuntu-2204-base-v1-0-0", "1.0.0", 2),
    ("vsphere", "vsphere:ubuntu-2204-base@1.1.0", None, 9),  # resolves by name, no artifact
    ("vsphere", "vm-template-legacy", None, 1),
]
# Columns the sync and the baseline both write, in ``_row`` order; the checksum compares all but timestamps/scan.
COLUMNS = (
    "organization_id",
    "connector_id",
    "platform",
    "account",
    "region",
    "zone",
    "site_id",
    "environment_id",
    "instance_id",
    "name",
    "state",
    "image_ref",
    "ref_key",
    "image_artifact_id",
    "image_version_id",
    "reported_version",
    "group_ref",
    "tags",
    "facts",
    "resolution_reason",
    "scope_key",
    "fingerprint",
    "first_seen",
    "last_seen",
    "removed_at",
    "last_scan_id",
)
CHECKED = [c for c in COLUMNS if c not in ("first_seen", "last_seen", "last_scan_id")]


def connector_config(count: int, seed: int, accounts: int) -> dict:
    """The synthetic fleet: ``count`` machines over accounts × regions × platforms, ~5 % unmanaged, ~5 % stopped."""
    refs: dict[str, list] = {}
    for platform, ref, _version, weight in IMAGES:
        refs.setdefault(platform, []).append([ref, weight])
    return {
        "count": count,
        "seed": seed,
        "accounts": accounts,
        "regions": REGIONS,
        "image_refs": refs,
        "unmanaged_ratio": 0.05,
        "stopped_ratio": 0.05,
    }


def prepare(count: int, seed: int, accounts: int):
    """Wipe the benchmark tenants and create the organisation, its environments, sites, images and the connector."""
    from django.conf import settings

    from apps.images.services import image_version_register
    from apps.inventory.services import connector_create
    from apps.tenancy.services import environment_create, organization_create, site_create

    sql("TRUNCATE tenancy_organization, django_q_schedule CASCADE")
    org = organization_create(actor=None, name="Benchmark (inventory sync)", slug=ORG_SLUG)
    for tier in ("dev", "staging", "prod"):
        environment_create(actor=None, organization=org, name=tier.title(), slug=tier, tier=tier)
    for platform, regions in REGIONS.items():
        kind = "datacenter" if platform == "vsphere" else "cloud_region"
        for region in regions:
            site_create(
                actor=None,
                organization=org,
                name=region,
                slug=f"{platform}-{region}",
                kind=kind,
                platform=platform,
                region=region,
            )
    contract = (settings.BASE_DIR / "contracts" / "examples" / "ubuntu-22.04.contract.yaml").read_text()
    for version in ("1.0.0", "1.1.0"):
        artifacts = [{"platform": p, "image_ref": r} for p, r, v, _w in IMAGES if v == version and p != "vsphere"]
        image_version_register(actor=None, organization=org, contract=contract, version=version, artifacts=artifacts)
    return connector_create(
        actor=None,
        organization=org,
        platform="synthetic",
        name="bench-fleet",
        config=connector_config(count, seed, accounts),
        environment_rules={"tag": "Environment", "default": "dev"},
    )


def checksum(organization_id: int) -> tuple[int, str]:
    """Row count and an order-independent digest of every stored business column of the organisation's assets."""
    row = ", ".join(CHECKED)
    count, digest = sql(
        f"SELECT count(*), coalesce(sum(hashtextextended(ROW({row})::text, 0)), 0)::text "
        "FROM inventory_asset WHERE organization_id = %s",
        [organization_id],
    )[0]
    return count, digest


# --- phases (each runs in its own process) -------------------------------------------------------------------------


def _connector(connector_id: int):
    """Load the benchmark connector with everything a phase pays once per process, then start the RSS peak afresh.

    Importing every platform's SDK (``load_all``) takes ~1.5 s and the first query opens the connection: process
    start-up, not per-asset work, so neither the sync nor the baseline is timed with it.
    """
    from apps.inventory.connectors.base import registered_connectors
    from apps.inventory.models import Connector

    registered_connectors()
    connector = Connector.objects.select_related("organization").get(pk=connector_id)
    reset_peak_rss()
    return connector


def _profiled(args, label: str, func):
    """Call ``func``; with ``--profile`` under cProfile, dumping stats to var/bench and the top entries to stderr."""
    if not args.profile:
        return func()
    profiler = cProfile.Profile()
    result = profiler.runcall(func)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"inventory_sync-{label}-{args.count}.prof"
    profiler.dump_stats(path)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print(f"--- {label}: top 25 by {order} ({path}) ---\n{out.getvalue()}", file=sys.stderr)
    return result


def phase_sync(args) -> dict:
    """One ``scan_run_now`` of the benchmark connector, timed end to end."""
    from apps.inventory.services import scan_run_now

    connector = _connector(args.connector)
    before = rss_mb()
    with timed() as clock:
        run = _profiled(args, args.phase, lambda: scan_run_now(actor=None, connector=connector, trigger="cli"))
    counts = {name: getattr(run, name) for name in ("discovered", "new", "updated", "unchanged", "removed")}
    return {
        "seconds": clock["seconds"],
        "cpu_seconds": clock["cpu_seconds"],
        "rss_before_mb": round(before, 1),
        "scan_run": run.pk,
        "status": run.status,
        "counts": counts,
        "error": run.error,
    }


def asset_columns(asset, scope, *, maps, resolver, organization_id, connector_id, run_id, seen_at) -> tuple:
    """The values ``inventory_sync`` stores for ``asset`` (its ``_row``), as a tuple in ``COLUMNS`` order."""
    from apps.inventory.services.resolution import ref_key_for
    from apps.inventory.services.sync import _facts

    ref_key = ref_key_for(asset.platform, asset.image_ref)
    artifact_id, version_id = resolver.resolve(asset.platform, ref_key)
    return (
        organization_id,
        connector_id,
        asset.platform,
        asset.account,
        asset.region,
        asset.zone,
        maps.site_for(asset.platform, asset.region, asset.site_hint),
        maps.environment_for(asset.tags),
        asset.instance_id,
        asset.name[:300],
        asset.state,
        asset.image_ref,
        ref_key,
        artifact_id,
        version_id,
        asset.image_version[:64],
        asset.group_ref,
        json.dumps(asset.tags),
        json.dumps(_facts(asset)),
        str(asset.extra.get("unresolved_reason") or "")[:300],
        scope.key,
        asset.fingerprint(),
        seen_at,
        seen_at,
        None,
        run_id,
    )


def row_source(connector, run_id: int | None, seen_at):
    """Every asset of the connector's fleet as baseline rows (same generator, same conversion), lookups loaded now.

    The lookups are queried before returning the generator: no query may run on the connection during a COPY.
    """
    from apps.inventory.services import connector_build
    from apps.inventory.services.resolution import ImageResolver, OrgMaps

    built = connector_build(connector)
    maps, resolver = OrgMaps.load(connector), ImageResolver.load(connector.organization)
    scopes = built.scopes()
    org_id, connector_id = connector.organization_id, connector.pk
    return (
        asset_columns(
            asset,
            scope,
            maps=maps,
            resolver=resolver,
            organization_id=org_id,
            connector_id=connector_id,
            run_id=run_id,
            seen_at=seen_at,
        )
        for scope in scopes
        for asset in built.iter_assets(scope)
    )


def upsert_sql() -> str:
    """The baseline's single statement: staging → inventory_asset, updating exactly the sync's ``UPDATE_FIELDS``."""
    from apps.inventory.models import Asset
    from apps.inventory.services.sync import UPDATE_FIELDS

    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (Asset._meta.get_field(f).column for f in UPDATE_FIELDS))
    cols = ", ".join(COLUMNS)
    return (
        f"INSERT INTO inventory_asset ({cols}) SELECT {cols} FROM asset_stage "
        f"ON CONFLICT (organization_id, platform, account, instance_id) DO UPDATE SET {updates}"
    )


def phase_baseline(args) -> dict:
    """COPY the same rows into a temp staging table and upsert them with ONE statement, in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    connector, statement, cols = _connector(args.connector), upsert_sql(), ", ".join(COLUMNS)
    before = rss_mb()
    with timed() as clock, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE asset_stage ON COMMIT DROP AS SELECT {cols} FROM inventory_asset WITH NO DATA"
        )
        rows = row_source(connector, args.scan_run, timezone.now())
        with timed() as load, cursor.copy(f"COPY asset_stage ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with timed() as upsert:
            cursor.execute(statement)
            written = cursor.rowcount
        with timed() as checks:  # the asset FKs are DEFERRABLE INITIALLY DEFERRED: checked here instead of at COMMIT
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return {
        "seconds": clock["seconds"],
        "cpu_seconds": clock["cpu_seconds"],
        "copy_seconds": load["seconds"],
        "upsert_seconds": upsert["seconds"],
        "fk_check_seconds": checks["seconds"],
        "rows": written,
        "rss_before_mb": round(before, 1),
    }


def phase_generate(args) -> dict:
    """The pure-Python floor: generating the fleet alone, then generating and converting it (fingerprints included)."""
    from apps.inventory.services import connector_build

    connector = _connector(args.connector)
    built = connector_build(connector)
    with timed() as generate:
        generated = sum(1 for scope in built.scopes() for _asset in built.iter_assets(scope))
    with timed() as convert:
        converted = sum(1 for _row in row_source(connector, None, None))
    return {
        "seconds": convert["seconds"],
        "generate_seconds": generate["seconds"],
        "rows": generated,
        "converted": converted,
    }


PHASES = {
    "generate": phase_generate,
    "sync-first": phase_sync,
    "sync-rescan": phase_sync,
    "baseline-first": phase_baseline,
    "baseline-rescan": phase_baseline,
}


# --- the orchestrating process ------------------------------------------------------------------------------------


def _expect(ok: bool, message: str) -> None:
    if not ok:
        raise BenchError(message)


def one_round(child: list[str], org_id: int, n: int) -> tuple[dict, tuple[int, str]]:
    """Sync first scan and re-scan, then the baseline's, each from the same table state; return phases and checksum."""
    phases = {}
    sql("TRUNCATE inventory_asset CASCADE")
    settle("inventory_asset")
    first = phases["sync-first"] = run_phase(MODULE, "sync-first", child)
    _expect(first["status"] == "succeeded" and first["counts"]["new"] == n, f"first scan: {first}")
    synced = checksum(org_id)
    settle("inventory_asset")
    rescan = phases["sync-rescan"] = run_phase(MODULE, "sync-rescan", child)
    _expect(rescan["status"] == "succeeded" and rescan["counts"]["unchanged"] == n, f"re-scan: {rescan}")

    sql("TRUNCATE inventory_asset CASCADE")
    settle("inventory_asset")
    phases["baseline-first"] = run_phase(MODULE, "baseline-first", [*child, "--scan-run", str(first["scan_run"])])
    copied = checksum(org_id)
    _expect(copied == synced, f"baseline rows differ from the sync's: {copied} != {synced}")
    settle("inventory_asset")
    phases["baseline-rescan"] = run_phase(MODULE, "baseline-rescan", [*child, "--scan-run", str(rescan["scan_run"])])
    _expect(checksum(org_id) == synced, "baseline re-scan changed the rows")
    return phases, synced


def measure(args) -> dict:
    """Prepare the data, run every phase in a fresh process on the same data, verify, and return the results.

    With ``--repeat`` the rounds run back to back and each phase reports its fastest round (every round is kept).
    """
    connector = prepare(args.count, args.seed, args.accounts)
    org_id, n = connector.organization_id, args.count
    child = ["--count", str(n), "--database-url", args.database_url, "--connector", str(connector.pk)]
    child += ["--profile"] if args.profile else []
    generate = run_phase(MODULE, "generate", child)
    rounds, digests = [], set()
    for _ in range(args.repeat):
        phases, synced = one_round(child, org_id, n)
        rounds.append(phases)
        digests.add(synced)
    _expect(len(digests) == 1, f"rounds wrote different rows: {digests}")
    best = {name: min((r[name] for r in rounds), key=lambda p: p["seconds"]) for name in rounds[0]}
    scopes = sum(map(len, REGIONS.values())) * args.accounts
    return {
        "rows": n,
        "scopes": scopes,
        "identical_rows": True,
        "checksum": synced[1],
        "repeat": args.repeat,
        "phases": {"generate": generate, **best},
        "rounds": rounds,
    }


def summarise(payload: dict) -> dict:
    """Ratios and goal checks from the phases."""
    phases, n = payload["phases"], payload["rows"]
    cases = {}
    for case in ("first", "rescan"):
        sync, base = phases[f"sync-{case}"], phases[f"baseline-{case}"]
        cases[case] = {
            "sync_seconds": round(sync["seconds"], 3),
            "sync_rows_per_s": round(n / sync["seconds"]),
            "sync_client_cpu_seconds": round(sync["cpu_seconds"], 3),
            "baseline_seconds": round(base["seconds"], 3),
            "baseline_rows_per_s": round(n / base["seconds"]),
            "baseline_client_cpu_seconds": round(base["cpu_seconds"], 3),
            "baseline_copy_seconds": round(base["copy_seconds"], 3),
            "baseline_upsert_seconds": round(base["upsert_seconds"], 3),
            "baseline_fk_check_seconds": round(base["fk_check_seconds"], 3),
            "ratio": round(sync["seconds"] / base["seconds"], 2),
            "sync_peak_rss_mb": sync["peak_rss_mb"],
            "sync_rss_growth_mb": round(sync["peak_rss_mb"] - sync["rss_before_mb"], 1),
            "baseline_peak_rss_mb": base["peak_rss_mb"],
            "baseline_rss_growth_mb": round(base["peak_rss_mb"] - base["rss_before_mb"], 1),
        }
    peak = max(phases["sync-first"]["peak_rss_mb"], phases["sync-rescan"]["peak_rss_mb"])
    return {
        "cases": cases,
        "goal": {"max_ratio": GOAL_RATIO, "max_rescan_ratio": GOAL_RESCAN_RATIO, "max_peak_rss_mb": GOAL_RSS_MB},
        "ratio_ok": all(c["ratio"] <= GOAL_RATIO for c in cases.values()),
        "rescan_ok": cases["rescan"]["ratio"] <= GOAL_RESCAN_RATIO,
        "rss_ok": peak <= GOAL_RSS_MB,
    }


def show(payload: dict) -> None:
    """Print the results table and the goal verdict."""
    summary, phases = payload["summary"], payload["phases"]
    rows = []
    for case, label in (("first", "first scan (all new)"), ("rescan", "re-scan (unchanged)")):
        c = summary["cases"][case]
        rows.append(
            [
                label,
                f"{c['sync_seconds']:.2f}",
                f"{c['sync_rows_per_s']:,}",
                f"{c['baseline_seconds']:.2f}",
                f"{c['baseline_rows_per_s']:,}",
                f"{c['ratio']:.2f}x",
                f"{c['sync_peak_rss_mb']:.0f} (+{c['sync_rss_growth_mb']:.0f})",
                f"{c['baseline_peak_rss_mb']:.0f} (+{c['baseline_rss_growth_mb']:.0f})",
            ]
        )
    print(
        f"\ninventory_sync, {payload['rows']:,} assets over {payload['scopes']} scopes, best of {payload['repeat']} "
        f"(PostgreSQL "
        f"{payload['environment']['postgresql']}, rows identical to the baseline: {payload['identical_rows']})\n"
    )
    headers = ["case", "sync s", "sync rows/s", "base s", "base rows/s", "ratio", "sync RSS MB", "base RSS MB"]
    print_table(headers, rows)
    gen = phases["generate"]
    print(
        f"\npython floor: generate {gen['generate_seconds']:.2f} s, generate + convert + fingerprint "
        f"{gen['seconds']:.2f} s.\nRSS MB: peak VmHWM of each phase's own process (+ growth over its "
        f"{phases['sync-first']['rss_before_mb']:.0f} MB with Django and the connector SDKs loaded)."
    )
    worst = max(c["ratio"] for c in summary["cases"].values())
    verdict = "met" if summary["ratio_ok"] else "MISSED"
    print(
        f"goal ratio <= {GOAL_RATIO}x: {verdict} (worst {worst:.2f}x); "
        f"re-scan <= {GOAL_RESCAN_RATIO}x: {'met' if summary['rescan_ok'] else 'MISSED'}; "
        f"peak RSS <= {GOAL_RSS_MB:.0f} MB: {'met' if summary['rss_ok'] else 'MISSED'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="assets in the synthetic fleet (default 100000)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database named qlrf_bench*")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--accounts", type=int, default=4, help="accounts per platform (scopes = accounts × regions)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds to run; each phase reports its fastest")
    parser.add_argument("--profile", action="store_true", help="run the sync phases under cProfile (times inflated)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--connector", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scan-run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.phase:
        setup_django(args.database_url)
        report_phase({"phase": args.phase, **PHASES[args.phase](args)})
        return
    created = ensure_database(args.database_url)
    setup_django(args.database_url)
    migrate()
    payload = {"benchmark": "inventory_sync", "database_created": created, "environment": environment()}
    payload |= {"command": " ".join(["python -m", MODULE, *(argv if argv is not None else sys.argv[1:])])}
    payload |= measure(args)
    payload["summary"] = summarise(payload)
    if args.profile:
        payload["note"] = "profiled run: sync times include cProfile overhead, ratios are not comparable"
    path = write_results(f"inventory_sync-{args.count}", payload)
    show(payload)
    print(f"results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
