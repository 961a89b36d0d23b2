"""What ``rf`` prints, from the API's JSON alone: both modes hand the same JSON here, so they print the same lines."""

from __future__ import annotations

import json
import sys
from typing import Any


class Printer:
    """Lines to stdout, progress to stderr (so ``--json`` output stays a clean document)."""

    def __init__(self, stdout=None, stderr=None, *, quiet: bool = False):
        self.stdout, self.stderr, self.quiet = stdout or sys.stdout, stderr or sys.stderr, quiet

    def line(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def json(self, data: Any) -> None:
        print(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False), file=self.stdout)

    def progress(self, text: str) -> None:
        if not self.quiet:
            print(f"… {text}", file=self.stderr, flush=True)

    def table(self, rows: list[dict], columns: list[tuple[str, str]]) -> None:
        """``columns``: (header, key) pairs; a dotted key reads nested values; empty cells print as ``-``."""
        cells = [[_cell(row, key) for _, key in columns] for row in rows]
        widths = [max([len(head), *(len(r[i]) for r in cells)]) for i, (head, _) in enumerate(columns)]
        self.line("  ".join(head.ljust(w) for (head, _), w in zip(columns, widths, strict=True)).rstrip())
        for row in cells:
            self.line("  ".join(value.ljust(w) for value, w in zip(row, widths, strict=True)).rstrip())
        if not rows:
            self.line("(none)")


def _cell(row: dict, key: str) -> str:
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def day(stamp: str | None) -> str:
    """``2026-12-04T10:11:12Z`` → ``2026-12-04 10:11`` (UTC as the API gives it)."""
    if not stamp:
        return "-"
    return stamp.replace("T", " ")[:16]


def version_line(version: dict) -> str:
    return f"{version['family']}@{version['version']} (id {version['id']}, {version['status']})"


def drift_lines(report: dict) -> list[str]:
    """The drift table of ``rf drift`` (the same columns as ``manage.py drift``)."""
    if report.get("source") == "snapshot":
        source = (f"as of {day(report.get('as_of'))} UTC, from drift snapshot #{report.get('snapshot_id')} taken "
                  f"{day(report.get('snapshot_taken_at'))} UTC ({report.get('snapshot_trigger')})")  # fmt: skip
    else:
        source = f"live, {day(report.get('calculated_at'))} UTC"
    lines = [
        f"Drift of {report.get('organization')} ({source})",
        f"{'environment':<12}{'platform':<10}{'site':<22}{'total':>7}{'compl.':>8}{'outd.':>7}"
        f"{'unman.':>8}{'stale':>7}{'coverage':>10}  rag",
    ]
    for row in [*report.get("reports", []), *report.get("by_environment", [])]:
        coverage = "—" if row.get("coverage_pct") is None else f"{row['coverage_pct']:.1f}%"
        lines.append(
            f"{row.get('environment') or '(all)':<12}{row.get('platform') or '(all)':<10}"
            f"{row.get('site') or '(all)':<22}{row['total_assets']:>7}{row['compliant_assets']:>8}"
            f"{row['outdated_count']:>7}{row['unmanaged_count']:>8}{row['stale_count']:>7}{coverage:>10}  "
            f"{row.get('rag') or '-'}"
        )
    return lines


def gate_lines(result: dict) -> list[str]:
    verdict = "allowed" if result["allowed"] else "denied"
    head = f"{result['image']} → {result['environment']}: {verdict} (decision {result['decision']})"
    return [head, *(f"{r['severity']}: {r['code']}: {r['detail']}" for r in result.get("reasons", []))]


def show_lines(detail: dict, badges: list, signatures: list, sbom: dict | None) -> list[str]:
    """``rf image show``: the version, its artifacts, badges, signature checks and SBOM summary."""
    lines = [
        version_line(detail),
        f"  released {day(detail.get('released_at'))}, parent {detail.get('parent') or '-'}, "
        f"contract {str(detail.get('contract_digest') or '-')[:19]}",
    ]
    if detail.get("revoked_at"):
        lines.append(f"  revoked {day(detail['revoked_at'])}: {detail.get('revocation_reason') or ''}".rstrip())
    lines.append(f"artifacts ({len(detail.get('artifacts', []))}):")
    lines += [f"  {a['platform']} {a.get('region') or '-'} {a['image_ref']}" for a in detail.get("artifacts", [])]
    lines.append("badges:")
    lines += [f"  {b['key']:<16}{b['status']:<10}{b.get('label', '')}" for b in badges]
    lines.append(f"signatures ({len(signatures)}):")
    lines += [_signature_line(v) for v in signatures]
    if sbom is None:
        lines.append("sbom: none")
    else:
        lines.append(f"sbom: {sbom['format']} {sbom['spec_version']} ({sbom['encoding']}), "
                     f"{sbom['package_count']} packages, sha256 {sbom['upload']['sha256']}")  # fmt: skip
    return lines


def _signature_line(check: dict) -> str:
    who = check.get("identity") or check.get("key_id") or ""
    where = f"[{check['environment']}]" if check.get("environment") else ""
    return f"  {day(check.get('created_at'))} {check.get('method')} {check.get('result')} {who} {where}".rstrip()


def diff_lines(diff: dict) -> list[str]:
    lines = [f"SBOM diff {diff['base']} → {diff['against']}: {len(diff['added'])} added, "
             f"{len(diff['removed'])} removed, {len(diff['changed'])} changed"]  # fmt: skip
    lines += [f"+ {c['name']} {','.join(c['after'])}" for c in diff["added"]]
    lines += [f"- {c['name']} {','.join(c['before'])}" for c in diff["removed"]]
    lines += [f"~ {c['name']} {','.join(c['before'])} → {','.join(c['after'])}" for c in diff["changed"]]
    return lines


def insight_lines(insight: dict) -> list[str]:
    """The narrative, the risk summary, then each cause's machines and provenance (deterministic or which model)."""
    provenance = insight["provenance"]
    source = (f"model {provenance['provider']}/{provenance['model']}" if provenance["kind"] == "model"
              else f"deterministic ({provenance['template_id']} v{provenance['template_version']})")  # fmt: skip
    lines = [*insight["narrative"].splitlines(), insight["risk_summary"]]
    for cause in insight["causes"]:
        lines.append(f"  #{cause['rank']} {cause['kind']}: {', '.join(cause['machine_ids'])}")
    lines.append(f"source: {source}; insight {insight['id']}")
    return lines
