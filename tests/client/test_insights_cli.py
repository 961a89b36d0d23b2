"""``rf insights explain``: the same output remote (REST API, token) and local (in-process); bad input is one line."""

from __future__ import annotations

import json

import pytest

from apps.images.services import channel_promote
from apps.inventory.services import scan_run_now
from tests.client.conftest import normalized
from tests.factories.images import register
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fleet(tenant_a, envs, ubuntu_contract):
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    channel_promote(actor=None, version=v1, environment=envs["prod"])
    connector = synthetic(
        tenant_a, count=6, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    scan_run_now(actor=None, connector=connector, trigger="cli")
    channel_promote(actor=None, version=v2, environment=envs["prod"], grace_days=0)


@pytest.mark.parametrize("as_json", [False, True])
def test_explain_prints_the_same_remote_and_local(remote, local, fleet, as_json):
    argv = ["insights", "explain", "--org", "alpha", "--env", "prod", *(["--json"] if as_json else [])]
    far, near = remote(*argv, role="viewer"), local(*argv, role="viewer")
    assert far.code == near.code == 0, (far, near)
    assert normalized(far.out) == normalized(near.out)
    if as_json:
        body = json.loads(far.out)
        assert (body["causes"][0]["kind"], body["causes"][0]["machines"]) == ("grace_ended", 6)
    else:
        lines = far.out.splitlines()
        assert lines[0] == "alpha env prod: 6 of 6 machine(s) drift (coverage 0.0%)."
        assert lines[1].startswith("1. The prod channel was promoted to ubuntu-2204-base@1.1.0 0 day(s) ago")
        assert lines[-1].startswith("source: deterministic (explain v1); insight ")


def test_bad_input_is_one_line_and_non_zero(remote, local, fleet):
    for run in (remote, local):
        unknown = run("insights", "explain", "--org", "alpha", "--env", "nope")
        assert unknown.code == 1 and unknown.err.count("\n") == 1 and "unknown environment 'nope'" in unknown.err
        bad_date = run("insights", "explain", "--org", "alpha", "--as-of", "soon")
        assert bad_date.code == 1 and "not a date" in bad_date.err and "Traceback" not in bad_date.err
        usage = run("insights", "explain", "--platform", "mainframe")
        assert usage.code == 2 and usage.err.startswith("rf: error: ")


def test_another_tenants_organisation_is_not_found(remote, fleet):
    done = remote("insights", "explain", "--org", "alpha", role="bravo")
    assert done.code == 1 and "unknown organization 'alpha'" in done.err
