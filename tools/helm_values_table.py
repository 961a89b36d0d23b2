"""The key-by-key table of the qlrf chart's values.yaml (helm-docs style) in the chart's README.md.

Every leaf key of values.yaml gets a row: its type, its default and the ``# --`` comment above it (or above its
nearest documented parent). ``python tools/helm_values_table.py --write`` rewrites the table between the README's
markers; ``--check`` exits non-zero when the README is out of date (tests/deploy/test_helm_docs.py does the same).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[1] / "deploy" / "helm" / "qlrf"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):")


def comments(text: str) -> dict[str, str]:
    """Dotted key path → the ``# --`` comment (with its continuation lines) written right above the key."""
    found: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
        elif stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
        elif not stripped or stripped.startswith("-"):
            pending = None
        elif match := KEY_LINE.match(line):
            indent, key = len(match.group(1)), match.group(2)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key))
            if pending is not None:
                found[".".join(k for _, k in stack)] = " ".join(pending)
            pending = None
    return found


def leaves(values: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Every leaf (a scalar, a list or an empty mapping) as (dotted path, default), in file order."""
    rows: list[tuple[str, object]] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(leaves(value, path + "."))
        else:
            rows.append((path, value))
    return rows


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "string"


def description(path: str, documented: dict[str, str]) -> str:
    parts = path.split(".")
    for size in range(len(parts), 0, -1):
        if text := documented.get(".".join(parts[:size])):
            return text
    return ""


def table(chart: Path = CHART) -> str:
    """The Markdown table of every leaf key of ``values.yaml``."""
    text = (chart / "values.yaml").read_text()
    documented = comments(text)
    lines = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for path, value in leaves(yaml.safe_load(text)):
        default = json.dumps(value, separators=(",", ":")).replace("|", "\\|")
        lines.append(f"| {path} | {type_name(value)} | `{default}` | {description(path, documented)} |")
    return "\n".join(lines) + "\n"


def readme_with_table(readme: str, chart: Path = CHART) -> str:
    """The README text with the table between the markers replaced by the current one."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(chart)}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md's table is out of date")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        sys.stdout.write(table())
        return 0
    readme = CHART / "README.md"
    current = readme.read_text()
    updated = readme_with_table(current)
    if args.write:
        readme.write_text(updated)
    elif updated != current:
        print("deploy/helm/qlrf/README.md is out of date: run python tools/helm_values_table.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
