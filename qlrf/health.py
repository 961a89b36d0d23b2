"""Liveness, readiness and version endpoints for load balancers and operators."""

from __future__ import annotations

import subprocess

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

import qlrf


@never_cache
@require_safe  # load balancers probe with HEAD
def healthz(request):
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


@never_cache
@require_safe
def readyz(request):
    """The database and, when configured, Redis answer; 503 naming the failing dependency otherwise."""
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    results, failing = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency makes the process unready
            results[name] = f"error: {type(exc).__name__}"
            failing.append(name)
    body = {"status": "unavailable" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)


def _git_commit() -> str:
    if settings.QLRF_GIT_COMMIT:
        return settings.QLRF_GIT_COMMIT
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=2, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


@require_GET
def version(request):
    """Package version and, for a signed-in user only, the git commit it was built from (null otherwise)."""
    commit = (_git_commit() or None) if request.user.is_authenticated else None
    return JsonResponse({"name": "qlrf", "version": qlrf.__version__, "commit": commit})
