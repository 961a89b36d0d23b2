"""Benchmark of the drift report against a same-run hand-written SQL ``GROUP BY``, and of ``GET /api/v1/drift``.

Run: ``.venv/bin/python -m bench.drift --count 1000000 [--database-url postgres://…/qlrf_bench_drift]``.
One run builds (or with ``--reuse`` keeps) a throw-away organisation with a realistic fleet, then measures, each phase
in a fresh process, best of ``--repeat`` with a warm cache: ONE hand-written SQL statement computing the counts per
(environment, platform, site), ``drift_evaluate`` alone, and the full ``drift_report_build``. It fails unless the
engine's counts equal the baseline's in every cell. Then it serves the project with gunicorn (2 workers, 127.0.0.1)
and drives 16 concurrent clients against ``GET /api/v1/drift`` and ``GET /healthz``. It prints a table and writes the
JSON to ``var/bench/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from bench import drift_pages
from bench._common import (
    ROOT,
    BenchError,
    ensure_database,
    environment,
    migrate,
    percentile,
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

MODULE = "bench.drift"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qlrf_bench_drift"  # own db: inventory_sync wipes qlrf_bench
ORG_SLUG = "bench-drift"
GOAL_RATIO, GOAL_REPORT_SECONDS, GOAL_API_P95_MS = 1.5, 1.0, 100.0
ENVIRONMENTS = ("dev", "staging", "prod")
ENV_DRAW = ["dev", "staging", "staging", "prod", "prod", "prod"]  # the connector draws uniformly from this list
# 20 sites over 4 platforms; one connector per platform: (share of the fleet, accounts, regions)
CONNECTORS = {
    "aws": (
        0.40,
        3,
        [
            "eu-west-1",
            "eu-west-2",
            "eu-central-1",
            "us-east-1",
            "us-east-2",
            "us-west-2",
            "ap-southeast-1",
            "ap-northeast-1",
        ],
    ),
    "azure": (0.25, 2, ["westeurope", "northeurope", "eastus", "westus2", "uksouth"]),
    "gcp": (0.20, 2, ["europe-west1", "europe-west4", "us-central1", "asia-east1"]),
    "vsphere": (0.15, 1, ["dc-frankfurt", "dc-amsterdam", "dc-dallas"]),
}
PARTIAL_PLATFORM, FAILED_SCOPES = "azure", 2  # the azure connector's latest scan misses its last 2 scopes: stale
FAMILIES = {"ubuntu-2204-base": 0.40, "rhel-9-base": 0.25, "windows-2022-base": 0.20, "debian-12-base": 0.15}
VERSIONS = {"1.0.0": 0.03, "1.1.0": 0.07, "1.2.0": 0.55, "1.3.0": 0.35}
# (environment, grace days, [(days ago, version), …]); per-family exceptions below
CHANNELS = [
    ("prod", 14, [(120, "1.0.0"), (60, "1.1.0"), (20, "1.2.0")]),
    ("staging", 7, [(120, "1.0.0"), (30, "1.2.0"), (3, "1.3.0")]),
    ("dev", 14, [(120, "1.0.0"), (40, "1.2.0"), (10, "1.3.0")]),
]
CHANNEL_EXCEPTIONS = {
    ("windows-2022-base", "prod"): [(120, "1.0.0"), (60, "1.1.0")],  # prod not promoted yet: 1.2/1.3 are canaries
    ("debian-12-base", "dev"): [],  # no channel: only a revocation makes machines outdated
}
REVOKED_DAYS_AGO = {("rhel-9-base", "1.1.0"): 12}
REVOKED_IN_DAYS = {("windows-2022-base", "1.2.0"): 5}  # scheduled revocation, not in effect yet
UNMANAGED_RATIO, STOPPED_RATIO = 0.04, 0.04
GALLERY = "/subscriptions/6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b/resourceGroups/rg-golden/providers/Microsoft.Compute"
GCP_IMAGES = "https://www.googleapis.com/compute/v1/projects/acme-golden-images/global/images"
COUNT_NAMES = ("total", "compliant", "outdated", "unmanaged", "stale", "not_running")
VSPHERE_TARGET = """  vsphere:
    - vcenter: vcsa01.example.com
      datacenter: DC1
      content_library: golden-images
      folder: /DC1/vm/Templates
"""


# --- the fleet ------------------------------------------------------------------------------------------------------


def artifact_refs(family: str, version: str, fi: int, vi: int) -> dict[str, list[tuple[str, str]]]:
    """Per platform: (registry image_ref, the ref machines report) pairs; None registry ref = resolved by name."""
    dashed = version.replace(".", "-")
    gallery = f"{GALLERY}/galleries/gal_golden/images/{family}/versions/{version}"
    return {
        # two regional copies of each AMI (the "regional copies" trap)
        "aws": [(f"ami-0{fi:04d}{vi:04d}{r:08d}", f"ami-0{fi:04d}{vi:04d}{r:08d}") for r in (1, 2)],
        # Azure ids differ in case between the gallery and the VM
        "azure": [(gallery, gallery), (gallery, gallery.upper())],
        # GCP: full selfLink on both sides, normalised to projects/…/global/images/…
        "gcp": [(f"{GCP_IMAGES}/{family}-v{dashed}", f"{GCP_IMAGES}/{family}-v{dashed}")],
        # vSphere: a registered template, and clones that name their template (resolved by family@version)
        "vsphere": [
            (f"vm-template-{family}-{dashed}", f"vm-template-{family}-{dashed}"),
            ("", f"vsphere:{family}@{version}"),
        ],
    }


def connector_config(platform: str, count: int, seed: int) -> dict:
    """One platform's synthetic connector: its share of the fleet over accounts × regions, weighted image refs."""
    share, accounts, regions = CONNECTORS[platform]
    refs = []
    for fi, (family, fw) in enumerate(FAMILIES.items()):
        for vi, (version, vw) in enumerate(VERSIONS.items()):
            pairs = artifact_refs(family, version, fi, vi)[platform]
            refs += [[asset_ref, fw * vw / len(pairs)] for _registry, asset_ref in pairs]
    return {
        "count": platform_count(platform, count),
        "seed": seed,
        "accounts": accounts,
        "regions": {platform: regions},
        "image_refs": {platform: refs},
        "environments": ENV_DRAW,
        "unmanaged_ratio": UNMANAGED_RATIO,
        "stopped_ratio": STOPPED_RATIO,
    }


def platform_count(platform: str, count: int) -> int:
    """The platform's share of ``count``; aws takes the rounding remainder."""
    others = {p: int(count * CONNECTORS[p][0]) for p in CONNECTORS if p != "aws"}
    return count - sum(others.values()) if platform == "aws" else others[platform]


def _contract(family: str) -> str:
    text = (ROOT / "contracts" / "examples" / "ubuntu-22.04.contract.yaml").read_text()
    text = text.replace("  family: ubuntu-2204-base\n", f"  family: {family}\n", 1)
    return text.rstrip("\n") + "\n" + VSPHERE_TARGET


def prepare_registry(organization, now: datetime.datetime) -> None:
    """Families × versions with artifacts (services), channel history in the past and revocations (as the scenarios)."""
    from apps.images.models import Channel, ChannelAssignment, ImageVersion
    from apps.images.services import image_version_publish, image_version_register, image_version_revoke
    from apps.tenancy.models import Environment

    versions = {}
    for fi, family in enumerate(FAMILIES):
        contract = _contract(family)
        for vi, version in enumerate(VERSIONS):
            refs = {
                (p, registry) for p, pairs in artifact_refs(family, version, fi, vi).items() for registry, _ in pairs
            }
            artifacts = [{"platform": p, "image_ref": registry} for p, registry in sorted(refs) if registry]
            registered, _ = image_version_register(
                actor=None, organization=organization, contract=contract, version=version, artifacts=artifacts
            )
            versions[(family, version)] = image_version_publish(actor=None, version=registered)
    for (family, version), days in REVOKED_DAYS_AGO.items():  # history: the revocation time is set directly
        ImageVersion.objects.filter(pk=versions[(family, version)].pk).update(
            revoked_at=now - datetime.timedelta(days=days), status="revoked", revocation_reason="bench: CVE"
        )
    for (family, version), days in REVOKED_IN_DAYS.items():
        image_version_revoke(
            actor=None,
            version=versions[(family, version)],
            reason="bench: scheduled",
            effective_at=now + datetime.timedelta(days=days),
        )
    environments = {e.slug: e for e in Environment.objects.filter(organization=organization)}
    for family in FAMILIES:
        for env, grace_days, default_history in CHANNELS:
            history = CHANNEL_EXCEPTIONS.get((family, env), default_history)
            if not history:
                continue
            channel = Channel.objects.create(
                organization=organization,
                family=versions[(family, history[0][1])].family,
                environment=environments[env],
                grace_days=grace_days,
            )
            previous = None
            for days_ago, version in history:
                at = now - datetime.timedelta(days=days_ago)
                target = versions[(family, version)]
                grace = datetime.timedelta(days=grace_days if previous else 0)
                ChannelAssignment.objects.create(
                    organization=organization,
                    channel=channel,
                    from_version=previous,
                    to_version=target,
                    assigned_at=at,
                    grace_until=at + grace,
                )
                previous = target
            Channel.objects.filter(pk=channel.pk).update(version=previous)


def prepare_organization(count: int, seed: int):
    """Wipe the benchmark tenants; create the organisation, 3 environments, 20 sites, the registry, 4 connectors."""
    from django.utils import timezone

    from apps.inventory.services import connector_create
    from apps.tenancy.services import environment_create, organization_create, site_create

    sql("TRUNCATE tenancy_organization, django_q_schedule CASCADE")
    org = organization_create(
        actor=None, name="Benchmark (drift)", slug=ORG_SLUG, description=json.dumps({"count": count, "seed": seed})
    )
    for tier in ENVIRONMENTS:
        environment_create(actor=None, organization=org, name=tier.title(), slug=tier, tier=tier)
    for platform, (_share, _accounts, regions) in CONNECTORS.items():
        for region in regions:
            site_create(
                actor=None,
                organization=org,
                name=region,
                slug=f"{platform}-{region}",
                kind="datacenter" if platform == "vsphere" else "cloud_region",
                platform=platform,
                region=region,
            )
    prepare_registry(org, timezone.now())
    connectors = [
        connector_create(
            actor=None,
            organization=org,
            platform="synthetic",
            name=f"bench-{platform}",
            config=connector_config(platform, count, seed),
            environment_rules={"tag": "Environment", "default": "dev"},
        )
        for platform in CONNECTORS
    ]
    return org, connectors


def failed_scopes(connector) -> list[str]:
    """The scope keys the latest scan of the partial platform's connector fails (none for the others)."""
    from apps.inventory.services import connector_build

    if connector.name != f"bench-{PARTIAL_PLATFORM}":
        return []
    return [scope.key for scope in connector_build(connector).scopes()[-FAILED_SCOPES:]]


def load_by_sync(connectors) -> dict[int, tuple]:
    """Two real scans per connector (``scan_create`` + ``scan_execute``), the partial one failing its scopes."""
    from apps.inventory.connectors.synthetic import SyntheticConnector
    from apps.inventory.services import scan_create, scan_execute

    runs = {}
    for connector in connectors:
        failing = failed_scopes(connector)
        first = scan_execute(run=scan_create(actor=None, connector=connector, trigger="cli"))
        impl = SyntheticConnector({**connector.config, "fail_scopes": failing}) if failing else None
        second = scan_execute(run=scan_create(actor=None, connector=connector, trigger="cli"), connector_impl=impl)
        expected = "partial" if failing else "succeeded"
        if first.status != "succeeded" or second.status != expected:
            raise BenchError(f"{connector.name}: scans ended {first.status}/{second.status}: {second.error}")
        runs[connector.pk] = (first, second)
    return runs


def fake_runs(connectors, now: datetime.datetime) -> dict[int, tuple]:
    """ScanRun rows as two scans would leave them (created by ``scan_create``, then finished in place), with their
    scope rows (the stale condition reads which scopes of the latest scan succeeded, ADR 026)."""
    from apps.inventory.models import ScanRun, ScanScope
    from apps.inventory.services import connector_build, scan_create

    runs = {}
    for connector in connectors:
        keys, failing = [s.key for s in connector_build(connector).scopes()], set(failed_scopes(connector))
        pair = []
        for started, fail in ((now - datetime.timedelta(hours=2), set()), (now - datetime.timedelta(hours=1), failing)):
            run = scan_create(actor=None, connector=connector, trigger="cli")
            scopes = {k: {"status": "failed" if k in fail else "succeeded", "discovered": 0} for k in keys}
            status = "partial" if fail else "succeeded"
            ScanRun.objects.filter(pk=run.pk).update(
                status=status, started_at=started, finished_at=started + datetime.timedelta(minutes=5), scopes=scopes
            )
            run.refresh_from_db()
            ScanScope.objects.bulk_create(
                ScanScope(
                    organization_id=run.organization_id,
                    run=run,
                    key=key,
                    position=position,
                    status=scope["status"],
                    finished_at=run.finished_at,
                )
                for position, (key, scope) in enumerate(scopes.items())
            )
            pair.append(run)
        runs[connector.pk] = tuple(pair)
    return runs


def load_by_copy(connectors, runs: dict[int, tuple]) -> None:
    """COPY the rows the two scans write straight into ``inventory_asset`` (one transaction).

    The first scan inserts every asset (``first_seen = last_seen`` = its start, ``last_scan`` = it); the second finds
    them all unchanged and writes none of them (ADR 026): its succeeded scope rows say it saw them.
    Column values come from ``bench.inventory_sync.asset_columns``, the sync's own ``_row`` conversion.
    """
    from django.db import connection, transaction

    from apps.inventory.services import connector_build
    from apps.inventory.services.resolution import ImageResolver, OrgMaps
    from bench.inventory_sync import COLUMNS, asset_columns

    cols = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        for connector in connectors:
            first, _second = runs[connector.pk]
            built = connector_build(connector)
            maps, resolver = OrgMaps.load(connector), ImageResolver.load(connector.organization)
            org_id, scopes = connector.organization_id, built.scopes()
            with cursor.copy(f"COPY inventory_asset ({cols}) FROM STDIN") as copy:
                for scope in scopes:
                    for asset in built.iter_assets(scope):
                        row = asset_columns(
                            asset,
                            scope,
                            maps=maps,
                            resolver=resolver,
                            organization_id=org_id,
                            connector_id=connector.pk,
                            run_id=first.pk,
                            seen_at=first.started_at,
                        )
                        copy.write_row(row)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def checksum(organization_id: int) -> tuple[int, str]:
    """Row count and an order-independent digest of every column but the id (timestamps and last scan included)."""
    from bench.inventory_sync import COLUMNS

    row = ", ".join(COLUMNS)
    count, digest = sql(
        f"SELECT count(*), coalesce(sum(hashtextextended(ROW({row})::text, 0)), 0)::text "
        "FROM inventory_asset WHERE organization_id = %s",
        [organization_id],
    )[0]
    return count, digest


def prepare(args) -> dict:
    """Build the fleet (or keep it with ``--reuse``); return what the phases need and how it was loaded."""
    from apps.inventory.models import Connector
    from apps.tenancy.models import Organization

    existing = Organization.objects.filter(slug=ORG_SLUG).first()
    wanted = {"count": args.count, "seed": args.seed}
    reusable = args.reuse and existing and json.loads(existing.description or "{}") == wanted
    if reusable and checksum(existing.pk)[0] == args.count:
        return {"organization": existing.pk, "loader": "reused", "load_seconds": 0.0}
    from django.utils import timezone

    org, connectors = prepare_organization(args.count, args.seed)
    result: dict = {"organization": org.pk, "loader": args.loader}
    with timed() as clock:
        if args.loader in ("sync", "both"):
            runs = load_by_sync(connectors)
            result["sync_checksum"] = checksum(org.pk)
        else:
            runs = fake_runs(connectors, timezone.now())
        if args.loader in ("copy", "both"):
            sql("TRUNCATE inventory_asset CASCADE")
            load_by_copy(Connector.objects.filter(organization=org).select_related("organization"), runs)
            result["copy_checksum"] = checksum(org.pk)
    result["load_seconds"] = clock["seconds"]
    if args.loader == "both" and result["sync_checksum"] != result["copy_checksum"]:
        raise BenchError(
            f"COPY loader rows differ from the sync's: {result['copy_checksum']} != {result['sync_checksum']}"
        )
    stored = checksum(org.pk)[0]
    if stored != args.count:
        raise BenchError(f"{stored} assets stored, expected {args.count}")
    return result


# --- the baseline: one hand-written statement ------------------------------------------------------------------------

# The per-(environment, platform, site) counts in ONE statement. The latest finished scan per connector and the
# channel assignment in force per (family, environment) are computed once (DISTINCT ON), the (environment, version)
# verdicts from them (a few dozen rows). The one pass over the assets joins the latest scans (4 rows, hashed) and
# groups by (environment, platform, site, version, not running, stale): a few thousand groups, a parallel hash
# aggregate. Only then are the groups joined to the verdicts and summed per cell. Tried and slower, same counts:
# joining every asset to the verdicts before one GROUP BY (1.7x the next one at 100k), and grouping by the raw
# connector, last_seen and state columns (the planner over-estimates the groups and sorts to disk: 2.7x at 1M).
# Same rules as the engine (an organisation counting stopped machines, the default): stale > unmanaged >
# compliant/outdated for every machine, stopped ones too, which are also counted as not running; compliant = not
# revoked by T and (no assignment in force, or at/above the golden version_key, or the previous golden inside its
# grace period).
LATEST_SCAN_SQL = """
WITH latest_scan AS (
    SELECT DISTINCT ON (connector_id) id, connector_id, started_at
    FROM inventory_scanrun
    WHERE organization_id = %(org)s AND status IN ('succeeded', 'partial', 'failed') AND started_at <= %(at)s
    ORDER BY connector_id, started_at DESC
), seen_scope AS (
    SELECT s.connector_id, c.key FROM latest_scan s JOIN inventory_scanscope c ON c.run_id = s.id
    WHERE c.status = 'succeeded'
)"""
VERDICT_SQL = """, in_force AS (
    SELECT DISTINCT ON (c.family_id, c.environment_id)
           c.family_id, c.environment_id, a.from_version_id, a.grace_until, g.version_key AS golden_key
    FROM images_channelassignment a
    JOIN images_channel c ON c.id = a.channel_id
    JOIN images_imageversion g ON g.id = a.to_version_id
    WHERE a.organization_id = %(org)s AND a.assigned_at <= %(at)s
    ORDER BY c.family_id, c.environment_id, a.assigned_at DESC, a.id DESC
), verdict AS (
    SELECT coalesce(e.id, 0) AS env_key, v.id AS version_id,
           (v.revoked_at IS NULL OR v.revoked_at > %(at)s)
           AND (f.golden_key IS NULL
                OR v.version_key COLLATE "C" >= f.golden_key COLLATE "C"
                OR (v.id = f.from_version_id AND %(at)s < f.grace_until)) AS compliant
    FROM images_imageversion v
    CROSS JOIN (SELECT id FROM tenancy_environment WHERE organization_id = %(org)s UNION ALL SELECT NULL) e
    LEFT JOIN in_force f ON f.family_id = v.family_id AND f.environment_id = e.id
    WHERE v.organization_id = %(org)s
)"""
BODY_SQL = """
, groups AS (
    SELECT a.environment_id, a.platform, a.site_id, a.image_version_id,
           a.state IN ({not_running}) AS not_running,
           coalesce(a.last_seen < s.started_at, false)
           AND NOT EXISTS (SELECT 1 FROM seen_scope c WHERE c.connector_id = a.connector_id AND c.key = a.scope_key)
           AS stale,
           count(*) AS n
    FROM inventory_asset a
    LEFT JOIN latest_scan s ON s.connector_id = a.connector_id
    WHERE a.organization_id = %(org)s AND a.first_seen <= %(at)s AND (a.removed_at IS NULL OR a.removed_at > %(at)s)
    GROUP BY a.environment_id, a.platform, a.site_id, a.image_version_id, not_running, stale
), classified AS (
    SELECT g.environment_id, g.platform, g.site_id, g.n, g.not_running,
           CASE WHEN g.stale THEN 'stale'
                WHEN g.image_version_id IS NULL THEN 'unmanaged'
                WHEN vd.compliant THEN 'compliant'
                ELSE 'outdated' END AS status
    FROM groups g
    LEFT JOIN {verdicts} ON vd.env_key = coalesce(g.environment_id, 0) AND vd.version_id = g.image_version_id
)
SELECT environment_id, platform, site_id,
       sum(n)::bigint,
       coalesce(sum(n) FILTER (WHERE status = 'compliant'), 0)::bigint,
       coalesce(sum(n) FILTER (WHERE status = 'outdated'), 0)::bigint,
       coalesce(sum(n) FILTER (WHERE status = 'unmanaged'), 0)::bigint,
       coalesce(sum(n) FILTER (WHERE status = 'stale'), 0)::bigint,
       coalesce(sum(n) FILTER (WHERE not_running), 0)::bigint
FROM classified
GROUP BY environment_id, platform, site_id
"""


def _not_running() -> str:
    from apps.drift.choices import NOT_RUNNING_STATES

    return ", ".join(f"'{state}'" for state in NOT_RUNNING_STATES)  # constants of the code, not input


def baseline_statement(values: list[tuple[int, int, bool]] | None = None) -> str:
    """The baseline: verdicts derived in SQL, or (``values``) the engine's precomputed verdicts as a VALUES list."""
    if values is None:
        return LATEST_SCAN_SQL + VERDICT_SQL + BODY_SQL.format(not_running=_not_running(), verdicts="verdict vd")
    rows = ", ".join(f"({int(e)}, {int(v)}, {'true' if c else 'false'})" for e, v, c in values)  # ints and bools
    verdicts = f"(VALUES {rows}) AS vd (env_key, version_id, compliant)"
    return LATEST_SCAN_SQL + BODY_SQL.format(not_running=_not_running(), verdicts=verdicts)


def run_baseline(statement: str, organization_id: int, at: datetime.datetime) -> dict[tuple, tuple]:
    rows = sql(statement, {"org": organization_id, "at": at})
    return {(e, p, s): tuple(counts) for e, p, s, *counts in rows}


def engine_values(organization) -> list[tuple[int, int, bool]]:
    """Every (environment or 0, version) verdict of the engine's rules now, for the VALUES variant."""
    from django.utils import timezone

    from apps.drift.engine import Rules
    from apps.tenancy.models import Environment

    rules = Rules(organization, timezone.now())
    envs = [*Environment.objects.filter(organization=organization).values_list("id", flat=True), None]
    return [(env or 0, version, rules.verdict(env, version).compliant) for env in envs for version in rules.versions]


# --- phases (each runs in its own process) ---------------------------------------------------------------------------


def _organization(org_id: int):
    """The organisation, with Django and the drift modules loaded and the connection open; then reset the RSS peak."""
    import apps.drift.selectors  # noqa: F401
    from apps.tenancy.models import Organization

    organization = Organization.objects.get(pk=org_id)
    sql("SELECT 1")
    reset_peak_rss()
    return organization


def best_of(func, repeat: int) -> dict:
    """One warm-up call, then ``repeat`` timed calls: best and every wall time, CPU of the best, the last result."""
    func()
    runs = []
    for _ in range(repeat):
        with timed() as clock:
            value = func()
        runs.append(clock)
    best = min(runs, key=lambda r: r["seconds"])
    return {
        "seconds": best["seconds"],
        "cpu_seconds": best["cpu_seconds"],
        "all_seconds": [round(r["seconds"], 4) for r in runs],
        "value": value,
    }


def _cells_json(cells: dict[tuple, tuple]) -> list:
    return [[*key, *counts] for key, counts in sorted(cells.items(), key=lambda i: tuple(str(p) for p in i[0]))]


def phase_baseline(args) -> dict:
    """Best of N of the hand-written statement, verdicts in SQL and (second) as a VALUES list; its cells."""
    from django.utils import timezone

    organization = _organization(args.organization)
    before = rss_mb()
    derived = best_of(lambda: run_baseline(baseline_statement(), organization.pk, timezone.now()), args.repeat)
    values_statement = baseline_statement(engine_values(organization))
    valued = best_of(lambda: run_baseline(values_statement, organization.pk, timezone.now()), args.repeat)
    return {
        "seconds": derived["seconds"],
        "cpu_seconds": derived["cpu_seconds"],
        "all_seconds": derived["all_seconds"],
        "values_seconds": valued["seconds"],
        "values_all_seconds": valued["all_seconds"],
        "cells": _cells_json(derived.pop("value")),
        "values_cells": _cells_json(valued.pop("value")),
        "rss_before_mb": round(before, 1),
    }


def phase_evaluate(args) -> dict:
    """Best of N of ``drift_evaluate`` alone; its cells as counts."""
    from apps.drift.engine import drift_evaluate

    organization = _organization(args.organization)
    before = rss_mb()
    result = best_of(lambda: drift_evaluate(organization), args.repeat)
    evaluation = result.pop("value")
    cells = {key: tuple(getattr(cell, n) for n in COUNT_NAMES) for key, cell in evaluation.cells.items()}
    return {
        **result,
        "cells": _cells_json(cells),
        "verdicts": len(evaluation.verdicts),
        "rss_before_mb": round(before, 1),
    }


def report_digest(payload) -> str:
    """SHA-256 of a report's JSON without its ``calculated_at`` stamps: equal reports, equal digests."""
    import hashlib

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "calculated_at"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return hashlib.sha256(json.dumps(strip(payload), default=str, sort_keys=True).encode()).hexdigest()


class QueryLog:
    """A ``connection.execute_wrapper`` recording each statement's wall time (the first 160 characters of it)."""

    def __init__(self):
        self.entries: list[tuple[float, str]] = []

    def __call__(self, execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            self.entries.append((time.perf_counter() - start, " ".join(statement.split())[:160]))


def phase_report(args) -> dict:
    """Best of N of ``drift_report_build``; then one run split into its parts, with every SQL statement timed."""
    from dataclasses import asdict

    from django.db import connection
    from rest_framework.renderers import JSONRenderer

    from apps.drift.engine import drift_evaluate
    from apps.drift.reports import build_report_set, live_cells
    from apps.drift.selectors import drift_report_build

    organization = _organization(args.organization)
    before = rss_mb()
    result = best_of(lambda: drift_report_build(organization), args.repeat)
    report = result.pop("value")
    parts, log = {}, QueryLog()
    with connection.execute_wrapper(log):
        with timed() as clock:
            evaluation = drift_evaluate(organization)
        parts["drift_evaluate"] = clock["seconds"]
        with timed() as clock:
            cells, outdated = live_cells(organization, evaluation)
        parts["live_cells (first 20 outdated per cell)"] = clock["seconds"]
        with timed() as clock:
            built = build_report_set(organization, cells, evaluation.at, source="live", outdated_by_cell=outdated)
        parts["build_report_set (roll-ups)"] = clock["seconds"]
    with timed() as clock:
        payload = {"organization": organization.slug, **asdict(built)}
    parts["asdict (API view)"] = clock["seconds"]
    with timed() as clock:
        body = JSONRenderer().render(payload)
    parts["JSON render (API view)"] = clock["seconds"]
    total = report.total
    return {
        "digest": report_digest(payload),
        **result,
        "parts": {k: round(v, 4) for k, v in parts.items()},
        "queries": [[round(s, 4), text] for s, text in sorted(log.entries, reverse=True)],
        "cells": len(report.reports),
        "inline_outdated": sum(len(r.outdated_assets) for r in report.reports),
        "response_bytes": len(body),
        "total": [getattr(total, f) for f in ("total_assets", "compliant_assets", "outdated_count", "unmanaged_count")]
        + [total.stale_count, total.not_running_count],
        "rss_before_mb": round(before, 1),
    }


PHASES = {
    "baseline": phase_baseline,
    "evaluate": phase_evaluate,
    "report": phase_report,
    "outdated": drift_pages.phase_outdated,
    "csv": drift_pages.phase_csv,
}


# --- the API under load ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, path: str, headers: dict, timeout: float) -> tuple[int, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - start, len(body)
    finally:
        conn.close()


def drive(port: int, path: str, headers: dict, *, clients: int, requests: int, seconds: float) -> dict:
    """``clients`` threads issuing GETs back to back until ``requests`` were sent or ``seconds`` passed."""
    lock, latencies, failures, sizes = threading.Lock(), [], [], set()
    state = {"left": requests, "deadline": time.monotonic() + seconds}

    def client():
        while True:
            with lock:
                if state["left"] <= 0 or time.monotonic() > state["deadline"]:
                    return
                state["left"] -= 1
            try:
                status, elapsed, size = _request(port, path, headers, timeout=seconds + 120)
            except OSError as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    sizes.add(size)
                else:
                    failures.append(f"HTTP {status}")

    load = os.getloadavg()[0]
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 300)
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "path": path,
        "clients": clients,
        "ok": len(ms),
        "failed": len(failures),
        "failures": failures[:5],
        "wall_seconds": round(wall, 2),
        "throughput_rps": round(len(ms) / wall, 2) if wall else None,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": round(ms[-1], 1) if ms else None,
        "response_bytes": sorted(sizes),
        "loadavg": [load, os.getloadavg()[0]],
    }


def _children_peak_rss(pid: int) -> list[float]:
    """VmHWM (MiB) of the gunicorn workers (children of ``pid``)."""
    peaks = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            children = listing.read().split()
    except OSError:
        return peaks
    for child in children:
        try:
            with open(f"/proc/{child}/status") as status:
                peaks += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
        except OSError:
            continue
    return [round(p, 1) for p in peaks]


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    application: str = "qlrf.wsgi:application",
    conn_max_age: int = 0,
    redis_url: str | None = None,
    log_level: str = "WARNING",
) -> Iterator[subprocess.Popen]:
    """Serve ``application`` with gunicorn (2 sync workers, production settings, 127.0.0.1) until the block ends.

    Yields the master process with its ``port`` set once ``/healthz`` answers; stops it by its PID. Without
    ``redis_url`` each worker has its local-memory cache (the embedded default); with it, the cache and the rate-limit
    counters are shared by both workers, as in production.
    """
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "qlrf.settings.production",
        "QLRF_SECRET_KEY": "bench-drift-not-a-secret-" + "x" * 40,
        "QLRF_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "QLRF_DATABASE_URL": database_url,
        "QLRF_SECURE_SSL_REDIRECT": "false",
        "QLRF_LOG_LEVEL": log_level,
        "QLRF_DATABASE_CONN_MAX_AGE": str(conn_max_age),
    }
    env.pop("QLRF_DEBUG", None)
    env.pop("QLRF_REDIS_URL", None)
    if redis_url:
        env["QLRF_REDIS_URL"] = redis_url
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        application,
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "600",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    server.port = port
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(port, "/healthz", {"Host": "127.0.0.1"}, 5)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not come up (exit {server.poll()})")
            time.sleep(0.3)
        yield server
    finally:
        server.terminate()  # SIGTERM to the gunicorn master, by its PID: it stops its workers
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def api_run(args, token: str, *, application: str) -> dict:
    """Serve ``application`` with gunicorn (2 sync workers, production settings) and load it; stop it by its PID."""
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {token}", "Accept": "application/json"}
    # local-memory cache per worker, as on the embedded default
    with serve(args.database_url, application=application, conn_max_age=args.conn_max_age) as server:
        port = server.port
        status = _request(port, "/api/v1/drift", headers, 600)[0]
        if status != 200:
            raise BenchError(f"GET /api/v1/drift answered {status}")
        for _ in range(3):  # both workers: imports, first connection, the first computation
            _request(port, "/api/v1/drift", headers, 600)
        result = {
            "application": application,
            "conn_max_age": args.conn_max_age,
            "single": drive(port, "/api/v1/drift", headers, clients=1, requests=5, seconds=args.api_seconds),
            "drift": drive(
                port, "/api/v1/drift", headers, clients=16, requests=args.api_requests, seconds=args.api_seconds
            ),
            "healthz": drive(port, "/healthz", headers, clients=16, requests=2000, seconds=30),
        }
        result["worker_peak_rss_mb"] = _children_peak_rss(server.pid)
        return result


def api_token(org_id: int) -> str:
    from apps.tenancy.models import Organization
    from apps.tenancy.services import token_create

    organization = Organization.objects.get(pk=org_id)
    name = f"bench-drift-{time.time_ns()}"
    return token_create(actor=None, organization=organization, name=name, role="viewer")[1]


# --- the orchestrating process ---------------------------------------------------------------------------------------


def compare_cells(engine: list, baseline: list, label: str) -> None:
    """Fail loudly unless the engine's counts equal the baseline's in every cell."""
    ours, theirs = {tuple(c[:3]): c[3:] for c in engine}, {tuple(c[:3]): c[3:] for c in baseline}
    wrong = [(key, ours.get(key), theirs.get(key)) for key in sorted(set(ours) | set(theirs), key=str)]
    wrong = [w for w in wrong if w[1] != w[2]]
    if wrong:
        shown = "; ".join(f"{k}: {a} != {b}" for k, a, b in wrong[:3])
        raise BenchError(f"the cells disagree ({label}) in {len(wrong)} cells: {shown}")


def explain(org_id: int) -> str:
    """EXPLAIN ANALYZE of the baseline statement (the plan the engine's GROUP BY is compared with)."""
    from django.utils import timezone

    rows = sql("EXPLAIN (ANALYZE, BUFFERS) " + baseline_statement(), {"org": org_id, "at": timezone.now()})
    return "\n".join(r[0] for r in rows)


def explain_engine(org_id: int) -> str:
    """EXPLAIN ANALYZE of the engine's GROUP BY (the same queryset ``drift_evaluate`` builds)."""
    from django.db.models import Case, Count, Value, When
    from django.utils import timezone

    from apps.drift.choices import NOT_RUNNING_STATES
    from apps.drift.engine import fleet_at
    from apps.tenancy.models import Organization

    groups = (
        fleet_at(Organization.objects.get(pk=org_id), timezone.now())
        .annotate(running=Case(When(state__in=NOT_RUNNING_STATES, then=Value(False)), default=Value(True)))
        .values("environment_id", "platform", "site_id", "image_version_id", "stale", "running")
        .annotate(n=Count("id"))
        .order_by()
    )
    return groups.explain(analyze=True, buffers=True)


def measure(args) -> dict:
    """Prepare the fleet, run every phase in a fresh process, compare the cells, load the API; return the results."""
    loaded = prepare(args)
    org_id = loaded["organization"]
    settle("inventory_asset", "inventory_scanrun", "images_channelassignment", "images_imageversion")
    mix = sql(
        "SELECT count(*) FILTER (WHERE image_version_id IS NULL), count(*) FILTER (WHERE state <> 'running'), "
        "count(DISTINCT site_id), count(DISTINCT environment_id) FROM inventory_asset WHERE organization_id = %s",
        [org_id],
    )[0]
    child = ["--database-url", args.database_url, "--organization", str(org_id), "--repeat", str(args.repeat)]
    phases = {name: run_phase(MODULE, name, child) for name in args.phases}
    sums = None
    if {"baseline", "evaluate", "report"} <= set(phases):
        compare_cells(phases["evaluate"]["cells"], phases["baseline"]["cells"], "evaluate / baseline (SQL verdicts)")
        compare_cells(phases["evaluate"]["cells"], phases["baseline"]["values_cells"], "evaluate / baseline (VALUES)")
        sums = [sum(c[3 + i] for c in phases["baseline"]["cells"]) for i in range(len(COUNT_NAMES))]
        if phases["report"]["total"] != sums:
            raise BenchError(f"report: drift_report_build totals {phases['report']['total']} != baseline {sums}")
    payload = {
        "rows": args.count,
        "fleet": {
            "unmanaged": mix[0],
            "not_running": mix[1],
            "sites": mix[2],
            "environments": mix[3],
            "totals": dict(zip(COUNT_NAMES, sums, strict=True)) if sums else None,
            "cells": len(phases["baseline"]["cells"]) if "baseline" in phases else None,
        },
        "load": loaded,
        "repeat": args.repeat,
        "identical_cells": sums is not None,
        "phases": phases,
        "explain": {"baseline": explain(org_id), "engine_group_by": explain_engine(org_id)},
    }
    if not args.no_api:
        token = api_token(org_id)
        payload["api"] = {"live": api_run(args, token, application="qlrf.wsgi:application")}
    return payload


def summarise(payload: dict) -> dict:
    phases, summary = payload["phases"], {}
    if {"baseline", "evaluate", "report"} <= set(phases):
        summary = summarise_report(phases)
    if "outdated" in phases:
        outdated = phases["outdated"]
        summary["outdated"] = {k: outdated[k] for k in ("outdated", "worst_page_ms", "goal_page_ms", "pages_ok")}
        summary["outdated"]["miss_seconds"] = round(outdated["seconds"], 4)
    if "csv" in phases:
        keys = ("rows", "bytes", "raw_copy_seconds", "python_writer_seconds", "old_way_seconds", "after_write_seconds")
        summary["csv"] = {k: phases["csv"][k] for k in (*keys, "seconds", "ratio_vs_raw_copy", "csv_ok")}
    for variant, run in payload.get("api", {}).items():
        drift, health = run["drift"], run["healthz"]
        summary[f"api_{variant}"] = {
            "drift_p95_ms": drift["p95_ms"],
            "healthz_p95_ms": health["p95_ms"],
            "p95_ratio": round(drift["p95_ms"] / health["p95_ms"], 1) if drift["p95_ms"] and health["p95_ms"] else None,
            "ok": bool(drift["p95_ms"] is not None and drift["p95_ms"] < GOAL_API_P95_MS and not drift["failed"]),
        }
    return summary


def summarise_report(phases: dict) -> dict:
    base = min(phases["baseline"]["seconds"], phases["baseline"]["values_seconds"])
    summary = {
        "baseline_seconds": round(phases["baseline"]["seconds"], 4),
        "baseline_values_seconds": round(phases["baseline"]["values_seconds"], 4),
        "evaluate_seconds": round(phases["evaluate"]["seconds"], 4),
        "report_seconds": round(phases["report"]["seconds"], 4),
        "evaluate_ratio": round(phases["evaluate"]["seconds"] / base, 2),
        "report_ratio": round(phases["report"]["seconds"] / base, 2),
        "goal": {"max_ratio": GOAL_RATIO, "max_report_seconds": GOAL_REPORT_SECONDS, "api_p95_ms": GOAL_API_P95_MS},
    }
    summary["ratio_ok"] = summary["report_ratio"] <= GOAL_RATIO
    summary["report_time_ok"] = summary["report_seconds"] < GOAL_REPORT_SECONDS
    return summary


def show(payload: dict) -> None:
    s, phases = payload["summary"], payload["phases"]
    fleet = payload["fleet"]
    print(
        f"\ndrift, {payload['rows']:,} assets in {fleet['cells'] or '?'} cells (loader: {payload['load']['loader']}), "
        f"best of {payload['repeat']}, PostgreSQL {payload['environment']['postgresql']}; counts: {fleet['totals']}\n"
    )
    if "ratio_ok" in s:
        show_report(s, phases)
    if "outdated" in phases:
        drift_pages.show_outdated(phases["outdated"])
    if "csv" in phases:
        drift_pages.show_csv(phases["csv"])
    api = payload.get("api", {})
    if api:
        rows = []
        for variant, run in api.items():
            for name in ("single", "drift", "healthz"):
                r = run[name]
                rows.append(
                    [
                        f"{variant}: {r['path']} ({r['clients']} clients)",
                        r["ok"],
                        r["failed"],
                        r["p50_ms"],
                        r["p95_ms"],
                        r["p99_ms"],
                        r["throughput_rps"],
                    ]
                )
        print()
        print_table(["endpoint", "ok", "failed", "p50 ms", "p95 ms", "p99 ms", "req/s"], rows)
    if "ratio_ok" in s:
        verdict = "met" if s["ratio_ok"] else "MISSED"
        print(
            f"\ngoal report <= {GOAL_RATIO}x baseline: {verdict} ({s['report_ratio']:.2f}x); "
            f"report < {GOAL_REPORT_SECONDS:.0f} s: {'met' if s['report_time_ok'] else 'MISSED'} "
            f"({s['report_seconds']:.2f} s)"
        )
    for variant in api:
        a = s[f"api_{variant}"]
        print(
            f"goal API p95 < {GOAL_API_P95_MS:.0f} ms ({variant}): {'met' if a['ok'] else 'MISSED'} "
            f"(drift p95 {a['drift_p95_ms']} ms, healthz p95 {a['healthz_p95_ms']} ms, ratio {a['p95_ratio']}x)"
        )


def show_report(s: dict, phases: dict) -> None:
    rows = [
        ["baseline: one SQL statement (verdicts in SQL)", f"{s['baseline_seconds']:.3f}", "1.00x", "", ""],
        [
            "baseline: same, verdicts as VALUES",
            f"{s['baseline_values_seconds']:.3f}",
            f"{s['baseline_values_seconds'] / s['baseline_seconds']:.2f}x",
            "",
            f"{phases['baseline']['peak_rss_mb']:.0f}",
        ],
        [
            "drift_evaluate",
            f"{s['evaluate_seconds']:.3f}",
            f"{s['evaluate_ratio']:.2f}x",
            f"{phases['evaluate']['cpu_seconds']:.3f}",
            f"{phases['evaluate']['peak_rss_mb']:.0f}",
        ],
        [
            "drift_report_build (full report)",
            f"{s['report_seconds']:.3f}",
            f"{s['report_ratio']:.2f}x",
            f"{phases['report']['cpu_seconds']:.3f}",
            f"{phases['report']['peak_rss_mb']:.0f}",
        ],
    ]
    print_table(["case", "best s", "vs fastest baseline", "client CPU s", "peak RSS MB"], rows)
    parts = ", ".join(f"{k} {v:.3f}s" for k, v in phases["report"]["parts"].items())
    print(f"\nreport parts (one run): {parts}")
    for seconds, text in phases["report"]["queries"][:2]:
        print(f"  {seconds:.3f}s  {text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="assets in the fleet (default 1000000)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database named qlrf_bench*")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case after one warm-up; best reported")
    parser.add_argument(
        "--loader",
        choices=["copy", "sync", "both"],
        default="copy",
        help="how the fleet is written: COPY of the sync's rows, two real scans per connector, or both (compared)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the fleet of a previous run with the same count/seed"
    )
    parser.add_argument("--api-requests", type=int, default=400, help="at most this many GET /api/v1/drift under load")
    parser.add_argument("--api-seconds", type=float, default=60.0, help="at most this long per endpoint under load")
    parser.add_argument(
        "--conn-max-age", type=int, default=0, help="QLRF_DATABASE_CONN_MAX_AGE of the gunicorn workers (default 0)"
    )
    parser.add_argument("--no-api", action="store_true", help="skip the gunicorn load test")
    parser.add_argument(
        "--phases",
        type=lambda text: [p for p in text.split(",") if p],
        default=list(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all; the cell checks need the first three)",
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--organization", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count < 1000 or args.repeat < 1:
        parser.error("--count must be at least 1000 and --repeat at least 1")
    if unknown := set(args.phases) - set(PHASES):
        parser.error(f"unknown phases {', '.join(sorted(unknown))}")
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
    payload = {"benchmark": "drift", "database_created": created, "environment": environment()}
    payload |= {"command": " ".join(["python -m", MODULE, *(argv if argv is not None else sys.argv[1:])])}
    payload |= measure(args)
    payload["summary"] = summarise(payload)
    path = write_results(f"drift-{args.count}", payload)
    show(payload)
    print(f"results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
