"""Read replicas (#17, ``qlrf/db_router.py``): what users see may lag, who may see it never does, and a user reads
their own writes.

The end-to-end test runs in a subprocess with two SQLite files: the primary, and a "replica" copied from it before
further writes, so a read that went to the replica is recognisable by the older data it returns.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from apps.drift.models import DriftOutdatedBuild
from apps.images.models import ImageVersion
from apps.inventory.models import Asset
from apps.tenancy.models import ApiToken, Membership
from qlrf.db_router import REPLICA, ReadState, ReplicaRouter, _state

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("state", "model", "expected"),
    [
        (ReadState(replica_allowed=True), Asset, REPLICA),
        (ReadState(replica_allowed=True), ImageVersion, REPLICA),
        (ReadState(replica_allowed=True), Membership, None),  # who may see: primary
        (ReadState(replica_allowed=True), ApiToken, None),
        (ReadState(replica_allowed=True), DriftOutdatedBuild, None),  # written on read (ADR 021)
        (ReadState(replica_allowed=True, wrote=True), Asset, None),  # after a write: read your writes
        (ReadState(replica_allowed=False), Asset, None),  # unsafe request, or a sticky browser
        (None, Asset, None),  # no request: tasks, commands, rf
    ],
)
def test_the_router_sends_only_lag_tolerant_reads_of_safe_requests_to_the_replica(state, model, expected):
    token = _state.set(state)
    try:
        assert ReplicaRouter().db_for_read(model) == expected
    finally:
        _state.reset(token)


def test_a_write_marks_the_request_and_goes_to_the_primary():
    state = ReadState(replica_allowed=True)
    token = _state.set(state)
    try:
        assert ReplicaRouter().db_for_write(Asset) is None and state.wrote
        assert ReplicaRouter().db_for_read(Asset) is None
    finally:
        _state.reset(token)
    assert ReplicaRouter().allow_migrate(REPLICA, "inventory") is False


SETUP = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from apps.inventory.services import connector_create
from apps.tenancy.services import membership_add, organization_create
org = organization_create(actor=None, name="R", slug="r")
user = get_user_model().objects.create_user("eng", password="pw")
membership_add(actor=None, organization=org, user=user, role="engineer")
connector_create(actor=None, organization=org, platform="synthetic", name="old", config={"count": 1})
"""

AFTER_COPY = """
import django; django.setup()
from apps.inventory.services import connector_create
from apps.tenancy.models import Organization
connector_create(actor=None, organization=Organization.objects.get(slug="r"), platform="synthetic", name="new",
                 config={"count": 1})
"""

CLIENT = """
import json, sys
import django; django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from apps.tenancy.models import Membership
from apps.tenancy.services import membership_remove

def names(client):
    response = client.get("/api/v1/connectors")
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])

client = Client(HTTP_HOST="localhost")
client.force_login(get_user_model().objects.get(username="eng"))
out = {"fresh_get": names(client)}
created = client.post(
    "/api/v1/connectors", json.dumps({"name": "third", "platform": "synthetic", "config": {"count": 1}}),
    content_type="application/json")
out["post"] = created.status_code
out["sticky_cookie"] = "qlrf_primary" in created.cookies
out["after_write"] = names(client)
client.cookies.pop("qlrf_primary")
out["cookie_gone"] = names(client)
membership_remove(actor=None, membership=Membership.objects.get(user__username="eng"))
out["after_revocation"] = names(client)
print(json.dumps(out))
"""


def _env(primary: Path, replica: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLRF_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="qlrf.settings.development",
        QLRF_VAR_DIR=str(primary.parent),
        QLRF_DATABASE_URL=f"sqlite:///{primary}",
        PYTHONPATH=str(ROOT),
    )
    if replica is not None:
        env["QLRF_DATABASE_REPLICA_URL"] = f"sqlite:///{replica}"
    return env


def _run(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_reads_lag_on_the_replica_but_permissions_and_own_writes_do_not(tmp_path):
    import json

    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    _run(SETUP, _env(primary, None))
    with sqlite3.connect(primary) as source, sqlite3.connect(replica) as target:
        source.backup(target)  # the replica as of now (WAL included)
    _run(AFTER_COPY, _env(primary, None))  # the primary moves on: the replica lags by one connector
    out = json.loads(_run(CLIENT, _env(primary, replica)).strip().splitlines()[-1])
    assert out["fresh_get"] == ["old"]  # a safe request read the replica, which lags
    assert out["post"] == 201 and out["sticky_cookie"]
    assert out["after_write"] == ["new", "old", "third"]  # the writer reads the primary while the cookie lasts
    assert out["cookie_gone"] == ["old"]  # then the replica again
    # the membership is gone on the primary only: the replica still holds the grant, but grants are read on the primary
    assert out["after_revocation"] == []
