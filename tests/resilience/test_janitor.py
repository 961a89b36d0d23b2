"""Teardown is guaranteed: a worker SIGKILLed mid-drill leaks nothing after the janitor's next pass.

The drill runs in a forked child against moto's server (so the child's EC2 calls land in the same simulated cloud);
the test kills the child once its instances exist, then runs the janitor. On SQLite the child writes its own copy of
the in-memory test database, so the parent still sees the run queued; on PostgreSQL it sees it running. Either way
the run is active until its deadline, and the janitor keys on the platform's tags, not on what the worker wrote.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.db import connection, connections
from moto.server import ThreadedMotoServer

from apps.events.models import OutboxEvent
from apps.resilience.models import DrillRun, DrillStep
from apps.resilience.provisioners.aws import AwsProvisioner
from apps.resilience.services import drill_janitor_sweep, drill_run_execute, drill_run_start
from apps.resilience.tasks import drill_janitor_task

from .conftest import DR, build_world, document, save

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_worker_killed_after_provisioning_leaks_nothing_after_the_janitor(moto_server, tenant_a, envs, monkeypatch):
    world = build_world(tenant_a, envs, endpoint_url=moto_server)
    definition = save(tenant_a, document())
    run = drill_run_start(actor=None, definition=definition, trigger="manual")
    # The worker hangs right after provisioning (as a worker stuck waiting would) until it is killed.
    monkeypatch.setattr(AwsProvisioner, "wait_running", lambda self, ids, timeout: time.sleep(3600))

    pid = os.fork()
    if pid == 0:  # the worker
        try:
            if connection.vendor != "sqlite":
                # Closing an inherited server connection would end the parent's session too: drop it unclosed
                # (os._exit runs no finalisers) so the child opens its own.
                inherited = [c.connection for c in connections.all()]  # noqa: F841 - kept alive on purpose
                for wrapper in connections.all():
                    wrapper.connection = None
            drill_run_execute(run=DrillRun.objects.get(pk=run.pk))
        finally:
            os._exit(0)
    try:
        leaked = _wait_for(lambda: len(world.tagged_live(DR)) == 2 and world.tagged_live(DR))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert len(leaked) == 2

    run.refresh_from_db()
    assert run.status in ("queued", "running")  # the worker died without finishing
    report = drill_janitor_sweep()
    assert (report.abandoned, report.destroyed) == (0, [])  # an active run's machines are left alone
    assert sorted(world.tagged_live(DR)) == sorted(leaked)

    report = drill_janitor_sweep(now=run.deadline_at + dt.timedelta(seconds=1))
    assert report.abandoned == 1
    assert sorted(report.destroyed) == sorted(leaked)
    assert report.errors == []
    assert world.tagged_live(DR) == []  # 0 leaked
    run.refresh_from_db()
    assert run.status == "abandoned"
    assert run.reasons[-1].startswith("abandoned: the run passed its deadline")
    janitor_step = DrillStep.objects.get(run=run, kind="janitor")
    assert sorted(janitor_step.data["ids"]) == sorted(leaked)
    assert OutboxEvent.objects.filter(type="drill.resources.reaped").count() == 1
    assert drill_janitor_task() == "abandoned 0, destroyed 0, errors 0"  # idempotent


def test_janitor_removes_resources_of_runs_it_does_not_know(moto_server, tenant_a, envs):
    world = build_world(tenant_a, envs, endpoint_url=moto_server)
    save(tenant_a, document())
    world.ec2(DR).run_instances(
        ImageId=world.ami_copy,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "qlrf:drill-run", "Value": "999-12345"}]}],
    )
    untagged = world.ec2(DR).run_instances(ImageId=world.ami_copy, MinCount=1, MaxCount=1)["Instances"][0]
    report = drill_janitor_sweep()
    assert len(report.destroyed) == 1
    assert world.tagged_live(DR) == []
    state = world.ec2(DR).describe_instances(InstanceIds=[untagged["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "running"  # never touches what a drill did not create
