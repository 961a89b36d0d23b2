"""The per-organisation model quota holds across two worker processes sharing Redis."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("QLRF_TEST_INSIGHTS_REDIS_URL", "redis://127.0.0.1:6379/13")
WORKER = """
import json, os, sys, types
import django
django.setup()
from apps.insights.providers.guard import LimitReached, charge_tokens, take_request
org, requests, tokens, attempts, charge = (int(v) for v in sys.argv[1:6])
provider = types.SimpleNamespace(organization_id=org, requests_per_day=requests, tokens_per_day=tokens)
taken, refusals = 0, []
for _ in range(attempts):
    try:
        take_request(provider)
        taken += 1
        charge_tokens(provider, charge)
    except LimitReached as exc:
        refusals.append(str(exc))
print(json.dumps({"taken": taken, "refusals": sorted(set(refusals))}))
"""


def _start(*args: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "qlrf.settings.test", "QLRF_RATE_LIMIT_STORAGE": REDIS}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_share_one_daily_request_quota():
    redis.Redis.from_url(REDIS).ping()  # the test needs the local Redis: an unreachable one fails it
    org = random.randint(10**8, 10**9)
    workers = [_start(org, 7, 10**6, 10, 1) for _ in range(2)]
    results = [_result(w) for w in workers]
    assert sum(r["taken"] for r in results) == 7
    assert {m for r in results for m in r["refusals"]} == {"model requests per day (7) used up"}


def test_tokens_charged_in_one_process_limit_the_other():
    org = random.randint(10**8, 10**9)
    assert _result(_start(org, 100, 500, 1, 800))["taken"] == 1  # the call that crosses the quota completes
    other = _result(_start(org, 100, 500, 3, 1))
    assert other == {"taken": 0, "refusals": ["model tokens per day (500) used up"]}
