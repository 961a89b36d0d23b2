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
        site_seq = DriftOutdatedEntry.objects.filter(build=build, site_slug=site).order_by("seq_desc")
        start = site_seq.values_list("seq_desc", flat=True)[k_site - 1] if k_site else 0
        site_cursor = Cursor(build.pk, start, False, True, ("", "", site)).encode()
        by_site_cursor = best_of(
            lambda c=site_cursor: _get(client, {"limit": PAGE, "cursor": c, "site": site}), args.repeat
        )
        if [r["instance_id"] for r in by_site_cursor["value"]["results"]] != [
            r["instance_id"] for r in filtered["value"]["results"]
        ]:
            raise BenchError(f"depth {k_site} of site {site}: the cursor page and the offset page differ")
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
            "api_site_cursor_ms": _ms(by_site_cursor),
            "raw_sql_ms": _ms(raw),
        }
        if fraction in LEGACY_DEPTHS:
            legacy = best_of(lambda k=k: _legacy_page(organization, k), 1)
            count, legacy_ids = legacy["value"]
            if (count, legacy_ids) != (total, ids):
                raise BenchError(f"depth {k}: the old way's page differs from the build's ({count} vs {total})")
            row["legacy_ms"] = _ms(legacy)
        depths.append(row)
    worst = max(max(d["api_cursor_ms"], d["api_offset_ms"], d["api_site_cursor_ms"]) for d in depths)
    worst_site_offset = max(d["api_site_offset_ms"] for d in depths)
    return {
        "seconds": built["seconds"],
        "cpu_seconds": built["cpu_seconds"],
        "build_all_seconds": built["all_seconds"],
        "outdated": total,
        "entries_stored": DriftOutdatedEntry.objects.count(),
        "site_filter": [site, site_total],
        "depths": depths,
        "worst_page_ms": worst,  # pages reached by following links (cursor), and unfiltered offsets
        "worst_site_offset_ms": worst_site_offset,  # a filtered offset scans its depth: O(depth), reported apart
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
            d["api_site_cursor_ms"],
            d["api_site_offset_ms"],
            d["raw_sql_ms"],
            d.get("legacy_ms", ""),
        ]
        for d in result["depths"]
    ]
    site, n = result["site_filter"]
    print_table(
        ["depth", "API cursor ms", "API offset ms", f"site={site} ({n:,}) cursor", "same, offset", "raw SQL ms", "old"],
        rows,
    )

    verdict = "met" if result["pages_ok"] else "MISSED"
    print(
        f"goal page < {GOAL_PAGE_MS:.0f} ms at any depth: {verdict} (worst {result['worst_page_ms']} ms by cursor or "
        f"unfiltered offset; a filtered offset, which scans its depth: worst {result['worst_site_offset_ms']} ms)"
    )


# --- the outdated CSV export -----------------------------------------------------------------------------------------

GOAL_CSV_RATIO = 2.0
RAW_COPY_SQL = (
    "COPY (SELECT instance_id, name, platform, environment_slug, site_slug, version, baseline, outdated_since, reason, "
    "running FROM drift_driftoutdatedentry WHERE build_id = {build} ORDER BY seq_desc) TO STDOUT (FORMAT csv)"
)


def _drain_copy(statement: str, params=None) -> tuple[int, int]:
    """Read a COPY … TO STDOUT to the end: (rows, bytes)."""
    from django.db import connection

    rows = size = 0
    with connection.cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            rows += 1
            size += len(chunk)
    return rows, size


def _download(client) -> bytes:
    response = client.get("/api/v1/reports/outdated.csv")
    if response.status_code != 200:
        raise BenchError(f"GET /api/v1/reports/outdated.csv answered {response.status_code}")
    return b"".join(response.streaming_content)


def phase_csv(args) -> dict:
    """The outdated CSV through the API (COPY path) against the same-run raw COPY, the Python writer and the old way."""
    import hashlib

    from django.test import Client

    from apps.drift.outdated import outdated_build_current
    from apps.drift.reports import outdated_asset
    from apps.drift.selectors import drift_outdated_list
    from apps.evidence.reports import csv_copy
    from apps.evidence.reports.csv_exports import OUTDATED_HEADER, csv_lines, export_build
    from bench._common import timed
    from bench.drift import _organization, api_token, best_of
    from qlrf.cache_generation import generation_bump

    organization = _organization(args.organization)
    token = api_token(organization.pk)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    before = rss_mb()
    build = outdated_build_current(organization)
    raw = best_of(lambda: _drain_copy(RAW_COPY_SQL.format(build=int(build.pk))), args.repeat)
    export = export_build("outdated", organization, user=None, params={})
    formatted = best_of(lambda: _drain_copy(f"COPY ({export.copy.select}) TO STDOUT (FORMAT csv)", export.copy.params),
                        args.repeat)  # fmt: skip
    api = best_of(lambda: _download(client), args.repeat)
    body = api.pop("value")
    python = best_of(lambda: b"".join(csv_lines(export.header, export_build(
        "outdated", organization, user=None, params={}).rows)), min(args.repeat, 2))  # fmt: skip
    if python["value"] != body:
        raise BenchError("the COPY export and the Python writer differ on the same build")
    rows = raw["value"][0]
    if body.count(b"\r\n") - 1 < rows:
        raise BenchError(f"the export has fewer lines than the build's {rows} rows")
    with timed() as miss:  # a write, then the export: build + COPY
        generation_bump(organization)
        size_after_write = len(_download(client))

    def old_way():  # before: re-evaluate, then the Python writer over the live asset query
        source, queryset, evaluation = drift_outdated_list(organization)
        lines = (list(_astuple(outdated_asset(r, source, evaluation))) for r in queryset.iterator(chunk_size=500))
        return sum(len(line) for line in csv_lines(OUTDATED_HEADER, lines))

    with timed() as old:
        old_size = old_way()
    ratio = api["seconds"] / raw["seconds"]
    return {
        "seconds": api["seconds"],
        "cpu_seconds": api["cpu_seconds"],
        "rows": rows,
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "copy_used": csv_copy.available(),
        "raw_copy_seconds": raw["seconds"],
        "raw_copy_formatted_seconds": formatted["seconds"],
        "api_all_seconds": api["all_seconds"],
        "python_writer_seconds": python["seconds"],
        "after_write_seconds": miss["seconds"],
        "after_write_bytes": size_after_write,
        "old_way_seconds": old["seconds"],
        "old_way_bytes": old_size,
        "ratio_vs_raw_copy": round(ratio, 2),
        "ratio_vs_formatted_copy": round(api["seconds"] / formatted["seconds"], 2),
        "goal_ratio": GOAL_CSV_RATIO,
        "csv_ok": ratio <= GOAL_CSV_RATIO,
        "rss_before_mb": round(before, 1),
    }


def _astuple(row):
    from dataclasses import astuple

    return astuple(row)


def show_csv(result: dict) -> None:
    from bench._common import print_table

    print(f"\noutdated CSV ({result['rows']:,} rows, {result['bytes'] / 1e6:.1f} MB; best of the repeats):")
    rows = [
        ["raw COPY of the build's columns (baseline)", f"{result['raw_copy_seconds']:.3f}", "1.00x"],
        ["raw COPY of the export's formatted SELECT", f"{result['raw_copy_formatted_seconds']:.3f}",
         f"{result['raw_copy_formatted_seconds'] / result['raw_copy_seconds']:.2f}x"],
        ["GET /api/v1/reports/outdated.csv (COPY path)", f"{result['seconds']:.3f}",
         f"{result['ratio_vs_raw_copy']:.2f}x"],
        ["Python writer, same rows (SQLite path)", f"{result['python_writer_seconds']:.3f}",
         f"{result['python_writer_seconds'] / result['raw_copy_seconds']:.2f}x"],
        ["the export right after a write (new build + COPY)", f"{result['after_write_seconds']:.3f}", ""],
        ["old way: re-evaluate + Python writer", f"{result['old_way_seconds']:.3f}",
         f"{result['old_way_seconds'] / result['raw_copy_seconds']:.2f}x"],
    ]  # fmt: skip
    print_table(["case", "s", "vs raw COPY"], rows)
    verdict = "met" if result["csv_ok"] else "MISSED"
    ratio = result["ratio_vs_raw_copy"]
    print(f"goal CSV <= {GOAL_CSV_RATIO:.0f}x raw COPY: {verdict} ({ratio:.2f}x); bytes equal to the Python writer's")
