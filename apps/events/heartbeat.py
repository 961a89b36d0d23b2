"""Liveness and readiness of the long-running event processes (``rf events relay``, ``rf events consume``).

Each loop round touches ``<dir>/<name>.alive``; a round that reached its transport (published, or read the inbound
stream) also touches ``<dir>/<name>.ready``. A probe asks whether a file is younger than a maximum age:

    python -m apps.events.heartbeat /tmp/qlrf/relay.alive --max-age 90

exits 0 when it is, 1 when it is stale or missing (a loop that stopped, hung or never started). The module imports
nothing of Django, so a probe costs an interpreter start and one ``stat``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


class Heartbeat:
    """The two files of one process: ``beat()`` every loop round, ``ready=True`` when the round reached its peer."""

    def __init__(self, directory: str | os.PathLike, name: str):
        self.directory = Path(directory)
        self.alive = self.directory / f"{name}.alive"
        self.ready = self.directory / f"{name}.ready"
        self.directory.mkdir(parents=True, exist_ok=True)

    def beat(self, *, ready: bool) -> None:
        _touch(self.alive)
        if ready:
            _touch(self.ready)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except FileNotFoundError:
        path.touch()


def age(path: str | os.PathLike) -> float | None:
    """Seconds since ``path`` was last touched; None when it does not exist."""
    try:
        return max(0.0, time.time() - os.stat(path).st_mtime)
    except FileNotFoundError:
        return None


def fresh(path: str | os.PathLike, max_age: float) -> bool:
    seconds = age(path)
    return seconds is not None and seconds <= max_age


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.events.heartbeat", description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the heartbeat file, e.g. /tmp/qlrf/relay.alive")
    parser.add_argument("--max-age", type=float, default=90.0, help="seconds after which it is stale (default 90)")
    args = parser.parse_args(argv)
    seconds = age(args.path)
    if seconds is None:
        print(f"{args.path}: missing", file=sys.stderr)
        return 1
    if seconds > args.max_age:
        print(f"{args.path}: stale ({seconds:.0f} s > {args.max_age:.0f} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
