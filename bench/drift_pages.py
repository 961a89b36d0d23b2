"""Phases of ``bench.drift`` for the outdated list: API pages at several depths, and the CSV export.

``outdated``: the live list is frozen once per generation (ADR 021). The phase times the miss (a write moved the
generation: evaluation + the ``INSERT … SELECT`` of the build), then at several depths of the list one page of 50
through the whole API stack in-process (Django's test client with a viewer bearer token: authentication, rate limit,
view, JSON), by cursor, by offset and by offset under a site filter, against the same-run raw SQL read of those 50 rows
from the build (the floor), and the old way (re-evaluate, ``COUNT``, ``OFFSET``) at the first and a deep page. It fails
unless the API's rows at each depth are the old way's rows at that offset.

Each function runs in the phase subprocess started by ``bench.drift`` (``--phase outdated``).
"""

from __future__ import annotations

from bench._common import BenchError, rss_mb, sql

PAGE = 50
DEPTHS = (0.0, 0.1, 0.5, 0.9, 1.0)  # fractions of the list; 1.0 is the last full page
LEGACY_DEPTHS = (0.0, 0.9)
GOAL_PAGE_MS = 100.0
ENTRY_SQL = (
    "SELECT instance_id, name, platform, environment_slug, site_slug, version, baseline, outdated_since, reason, "
    "running FROM drift_driftoutdatedentry WHERE build_id = %s AND seq_desc > %s ORDER BY seq_desc LIMIT %s"
)


def _ms(result: dict) -> float:
    return round(result["seconds"] * 1000, 2)


def _get(client, params: dict) -> dict:
    response = client.get("/api/v1/drift/outdated", params)
    if response.status_code != 200:
        raise BenchError(f"GET outdated {params} answered {response.status_code}: {response.content[:200]}")
    return response.json()


def _legacy_page(organization, offset: int) -> tuple[int, list[str]]:
    """The way every page was served before ADR 021: evaluate, COUNT, OFFSET/LIMIT, convert."""
    from dataclasses import asdict

    from apps.drift.reports import outdated_asset
    from apps.drift.selectors import drift_outdated_list

    source, rows, evaluation = drift_outdated_list(organization)
    count = rows.count()
    page = [asdict(outdated_asset(row, source, evaluation)) for row in rows[offset : offset + PAGE]]
    return count, [row["instance_id"] for row in page]


def phase_outdated(args) -> dict:
    """Miss (build) cost, then a page at each depth: API by cursor / offset / filtered offset, raw SQL, the old way."""
    from django.test import Client

    from apps.drift.models import DriftOutdatedEntry
    from apps.drift.outdated import Cursor, outdated_build_current
    from bench.drift import _organization, api_token, best_of
    from qlrf.cache_generation import generation_bump

    organization = _organization(args.organization)
    token = api_token(organization.pk)  # a write: it moves the generation too
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/json")
    before = rss_mb()

    def miss():
        generation_bump(organization)  # what any write does (autocommit: its on-commit bump runs at once)
        return outdated_build_current(organization)

    built = best_of(miss, args.repeat)
    build = built.pop("value")
    total = build.total
    if total < PAGE:
        raise BenchError(f"only {total} outdated assets: too few to page")
    per_site: dict[str, int] = {}
    for _env, _platform, cell_site, n in build.cells:
        per_site[cell_site] = per_site.get(cell_site, 0) + n
    site, site_total = max(per_site.items(), key=lambda item: item[1])
    first = _get(client, {"limit": PAGE})
    if first["count"] != total or len(first["results"]) != PAGE:
        raise BenchError(f"first page: count {first['count']} != {total} or {len(first['results'])} rows")
    depths = []
    for fraction in DEPTHS:
        k = min(int(total * fraction), total - PAGE)
        k_site = min(int(site_total * fraction), max(site_total - PAGE, 0))
        cursor = Cursor(build.pk, k, False, True, ("", "", "")).encode()
        by_cursor = best_of(lambda c=cursor: _get(client, {"limit": PAGE, "cursor": c}), args.repeat)
        by_offset = best_of(lambda k=k: _get(client, {"limit": PAGE, "offset": k}), args.repeat)
        filtered = best_of(lambda k=k_site: _get(client, {"limit": PAGE, "offset": k, "site": site}), args.repeat)
        raw = best_of(lambda k=k: sql(ENTRY_SQL, [build.pk, k, PAGE]), args.repeat)
        ids = [row["instance_id"] for row in by_cursor["value"]["results"]]
        if ids != [row["instance_id"] for row in by_offset["value"]["results"]] or len(ids) != PAGE:
            raise BenchError(f"depth {k}: the cursor page and the offset page differ")
        if len(filtered["value"]["results"]) != min(PAGE, site_total - k_site):
            raise BenchError(f"depth {k_site} of site {site}: {len(filtered['value']['results'])} rows")
        row = {
            "fraction": fraction,
            "offset": k,
            "api_cursor_ms": _ms(by_cursor),
            "api_offset_ms": _ms(by_offset),
            "api_site_offset": k_site,
            "api_site_offset_ms": _ms(filtered),
            "raw_sql_ms": _ms(raw),
        }
        if fraction in LEGACY_DEPTHS:
            legacy = best_of(lambda k=k: _legacy_page(organization, k), 1)
            count, legacy_ids = legacy["value"]
            if (count, legacy_ids) != (total, ids):
                raise BenchError(f"depth {k}: the old way's page differs from the build's ({count} vs {total})")
            row["legacy_ms"] = _ms(legacy)
        depths.append(row)
    worst = max(max(d["api_cursor_ms"], d["api_offset_ms"], d["api_site_offset_ms"]) for d in depths)
    return {
        "seconds": built["seconds"],
        "cpu_seconds": built["cpu_seconds"],
        "build_all_seconds": built["all_seconds"],
        "outdated": total,
        "entries_stored": DriftOutdatedEntry.objects.count(),
        "site_filter": [site, site_total],
        "depths": depths,
        "worst_page_ms": worst,
        "goal_page_ms": GOAL_PAGE_MS,
        "pages_ok": worst < GOAL_PAGE_MS,
        "rss_before_mb": round(before, 1),
    }


def show_outdated(result: dict) -> None:
    from bench._common import print_table

    print(
        f"\noutdated pages ({result['outdated']:,} outdated; limit {PAGE}; best of the repeats; in-process API):"
        f" a miss (write → new build) {result['seconds']:.3f} s"
    )
    rows = [
        [
            f"{d['fraction']:.0%} (offset {d['offset']:,})",
            d["api_cursor_ms"],
            d["api_offset_ms"],
            d["api_site_offset_ms"],
            d["raw_sql_ms"],
            d.get("legacy_ms", ""),
        ]
        for d in result["depths"]
    ]
    site, n = result["site_filter"]
    print_table(
        ["depth", "API cursor ms", "API offset ms", f"API site={site} ({n:,}) ms", "raw SQL ms", "old way ms"], rows
    )
    verdict = "met" if result["pages_ok"] else "MISSED"
    print(f"goal page < {GOAL_PAGE_MS:.0f} ms at any depth: {verdict} (worst {result['worst_page_ms']} ms)")
