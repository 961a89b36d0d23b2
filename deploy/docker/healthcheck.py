#!/usr/bin/env python3
"""Container health check of the qlrf image: /healthz for the portal, live cluster processes for the worker.

Usage: qlrf-healthcheck [auto|web|worker]. ``auto`` (the default) looks at the container's processes: a running
``qcluster`` means the worker role, anything else the web role. Exit status 0 is healthy, 1 is not (Docker's
HEALTHCHECK contract).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PROC = Path("/proc")


def probe_host(allowed_hosts: str) -> str:
    """Return a Host header Django accepts: the first QLRF_ALLOWED_HOSTS entry (``.example.com`` → ``example.com``)."""
    for item in allowed_hosts.split(","):
        host = item.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def check_web(port: str, allowed_hosts: str, timeout: float = 4.0) -> bool:
    """GET /healthz on the local gunicorn with an allowed Host; healthy on 200 and ``{"status": "ok"}``."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": probe_host(allowed_hosts)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed loopback http URL
            return response.status == 200 and json.loads(response.read()).get("status") == "ok"
    except (OSError, urllib.error.URLError, ValueError) as exc:
        print(f"healthz failed: {exc}", file=sys.stderr)
        return False


def cmdlines(proc: Path = PROC) -> list[str]:
    """The command line of every process visible in ``proc``, arguments joined by spaces."""
    lines = []
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                continue  # the process ended while we looked
    return lines


def check_worker(proc: Path = PROC) -> bool:
    """The django-q2 cluster is up when its main process and at least one forked child (sentinel, workers) run."""
    running = sum(1 for line in cmdlines(proc) if "manage.py qcluster" in line)
    if running < 2:
        print(f"qcluster processes running: {running}, expected at least 2", file=sys.stderr)
    return running >= 2


def detect_role(proc: Path = PROC) -> str:
    """``worker`` when a ``qcluster`` process runs in the container (PID 1 may be an init), else ``web``."""
    return "worker" if any("manage.py qcluster" in line for line in cmdlines(proc)) else "web"


def main(argv: list[str]) -> int:
    """Run the check for the requested (or detected) role; return the process exit status."""
    role = argv[1] if len(argv) > 1 else "auto"
    if role == "auto":
        role = detect_role()
    if role == "worker":
        return 0 if check_worker() else 1
    if role == "web":
        healthy = check_web(os.environ.get("PORT", "8000"), os.environ.get("QLRF_ALLOWED_HOSTS", ""))
        return 0 if healthy else 1
    print(f"unknown role {role!r}: expected auto, web or worker", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
