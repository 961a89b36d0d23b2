"""Line coverage of the combined runs: the total, one figure per app, and a non-zero exit under ``--fail-under``.

Reads the combined ``.coverage`` data (``coverage combine`` of the SQLite and PostgreSQL runs). Used by ``.ci/run`` and
the ``ci`` workflow.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import PurePosixPath

import coverage


def area(path: str) -> str:
    """``apps/drift/…`` → ``apps/drift``; ``qlrf/…`` → ``qlrf``."""
    parts = PurePosixPath(path).parts
    return "/".join(parts[:2]) if parts[0] == "apps" and len(parts) > 2 else parts[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fail-under", type=float, default=0.0)
    parser.add_argument("--data-file", default=".coverage")
    args = parser.parse_args()
    cov = coverage.Coverage(data_file=args.data_file)
    cov.load()
    statements: dict[str, int] = defaultdict(int)
    missing: dict[str, int] = defaultdict(int)
    for filename in sorted(cov.get_data().measured_files()):
        try:
            _, lines, _, missed, _ = cov.analysis2(filename)
        except coverage.CoverageException:
            continue  # a file that no longer exists
        relative = coverage.files.relative_filename(filename)
        statements[area(relative)] += len(lines)
        missing[area(relative)] += len(missed)
    total_statements, total_missing = sum(statements.values()), sum(missing.values())
    if not total_statements:
        print("coverage: no data measured", file=sys.stderr)
        return 2
    for name in sorted(statements):
        if statements[name]:
            percent = 100.0 * (statements[name] - missing[name]) / statements[name]
            print(f"{name:<24} {statements[name]:>7} statements {percent:6.1f} %")
    total = 100.0 * (total_statements - total_missing) / total_statements
    print(f"{'total':<24} {total_statements:>7} statements {total:6.1f} % (at least {args.fail_under:.0f} % required)")
    if total < args.fail_under:
        print(f"coverage: {total:.1f} % is under {args.fail_under:.0f} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
