"""AWS drills end to end on moto: success from the DR-region copy, a missing regional copy, a health check that never
turns green, and the teardown that always runs."""

from __future__ import annotations

import http.server
import threading

import pytest

from apps.events.models import OutboxEvent
from apps.resilience.models import DrillRun, DrillStep, HealthCheckResult
from apps.resilience.services import drill_run_execute, drill_run_request, drill_run_start

from .conftest import DR, build_world, document, save

pytestmark = pytest.mark.django_db


def _run(definition):
    run = drill_run_start(actor=None, definition=definition, trigger="manual")
    return drill_run_execute(run=run)


def _steps(run) -> list[tuple[str, str]]:
    return list(DrillStep.objects.filter(run=run).values_list("kind", "status"))


@pytest.fixture
def http_ok():
    """A local HTTP server answering 200 'ok' (the recovered app, as seen from the worker)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"status: ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_successful_drill_recovers_from_the_dr_copy_measures_and_tears_down(world, tenant_a, http_ok):
    checks = [
        {"name": "running", "type": "instance_state", "retries": 0},
        {"name": "golden", "type": "golden_version", "retries": 0},
        {"name": "port", "type": "tcp", "host": "127.0.0.1", "port": http_ok, "retries": 0},
        {
            "name": "app",
            "type": "http",
            "host": "127.0.0.1",
            "port": http_ok,
            "path": "/healthz",
            "expect_status": 200,
            "expect_body": "ok",
            "retries": 0,
        },
    ]
    definition = save(tenant_a, document(health_checks=checks))
    run = _run(definition)

    assert run.status == "passed", run.reasons
    assert run.reasons == []
    assert run.golden_version == world.version
    assert run.image_ref == world.ami_copy  # the DR-region copy, not the us-east-1 original
    instances = world.all_drill_instances(DR)
    assert sorted(i["InstanceId"] for i in instances) == sorted(run.resources)
    assert len(run.resources) == 2
    assert {i["ImageId"] for i in instances} == {world.ami_copy}
    assert {t["Value"] for i in instances for t in i["Tags"] if t["Key"] == "qlrf:drill-run"} == {run.tag_value}
    assert world.tagged_live(DR) == []  # all terminated
    assert world.all_drill_instances("us-east-1") == []
    assert run.rto_seconds is not None and 0 <= run.rto_seconds < 60
    assert run.rto_met is True and run.rpo_met is True
    expected_rpo = (run.started_at - world.version.released_at).total_seconds()
    assert run.rpo_seconds == pytest.approx(expected_rpo)
    assert run.recovery_point_at == world.version.released_at
    assert _steps(run) == [
        ("resolve", "ok"),
        ("recovery_point", "ok"),
        ("provision", "ok"),
        ("wait_running", "ok"),
        ("health_checks", "ok"),
        ("measure", "ok"),
        ("teardown", "ok"),
    ]
    results = HealthCheckResult.objects.filter(run=run)
    assert results.count() == 8  # 4 checks × 2 instances, each green at the first attempt
    assert set(results.values_list("passed", flat=True)) == {True}
    types = list(
        OutboxEvent.objects.filter(type__startswith="drill.").order_by("occurred_at").values_list("type", flat=True)
    )
    assert types == ["drill.run.started", "drill.run.finished"]
    finished = OutboxEvent.objects.get(type="drill.run.finished")
    assert finished.payload["status"] == "passed" and finished.payload["rto_met"] is True


def test_dr_region_without_a_copy_fails_with_that_reason_and_provisions_nothing(moto_aws, tenant_a, envs):
    world = build_world(tenant_a, envs, copy_to_dr=False)
    definition = save(tenant_a, document())
    run = _run(definition)

    assert run.status == "failed"
    assert run.reasons == [f"golden version ubuntu-2204-base@1.4.0 has no copy in {DR} (copies in: us-east-1)"]
    assert _steps(run) == [("resolve", "failed")]
    assert run.resources == [] and run.rto_seconds is None
    assert world.all_drill_instances(DR) == [] and world.all_drill_instances("us-east-1") == []


def test_registered_copy_deleted_in_the_region_fails_before_provisioning(world, tenant_a):
    world.ec2(DR).deregister_image(ImageId=world.ami_copy)
    run = _run(save(tenant_a, document()))
    assert run.status == "failed"
    assert run.reasons == [f"golden version ubuntu-2204-base@1.4.0's copy {world.ami_copy} no longer exists in {DR}"]
    assert world.all_drill_instances(DR) == []


def test_health_check_never_green_misses_the_rto_and_still_tears_down(world, tenant_a, free_tcp_port):
    checks = [
        {"name": "running", "type": "instance_state", "retries": 0},
        {
            "name": "app",
            "type": "tcp",
            "host": "127.0.0.1",
            "port": free_tcp_port,
            "retries": 2,
            "interval_seconds": 0,
            "timeout_seconds": 1,
        },
    ]
    definition = save(tenant_a, document(health_checks=checks, pilot_light={"instance_type": "t3.micro", "count": 1}))
    run = _run(definition)

    assert run.status == "failed"
    assert run.rto_seconds is None and run.rto_met is False
    assert run.reasons[0].startswith("health check app never green on i-")
    assert "RTO objective (1800 s) missed: the health checks never all turned green" in run.reasons
    assert world.tagged_live(DR) == []
    assert len(world.all_drill_instances(DR)) == 1
    red = HealthCheckResult.objects.filter(run=run, check_name="app")
    assert list(red.values_list("attempt", "passed")) == [(1, False), (2, False), (3, False)]
    assert _steps(run)[-3:] == [("health_checks", "failed"), ("measure", "failed"), ("teardown", "ok")]


def test_rto_objective_exceeded_is_a_failed_drill(world, tenant_a):
    definition = save(tenant_a, document(objectives={"rto_minutes": 0.001, "rpo_minutes": 60 * 24 * 30}))
    run = _run(definition)
    assert run.status == "failed"
    assert run.rto_met is False and run.rto_seconds is not None
    assert run.reasons == [f"RTO {run.rto_seconds:.0f} s exceeds the objective of 0 s"]
    assert world.tagged_live(DR) == []


def test_snapshot_recovery_point_measures_rpo_from_the_newest_tagged_snapshot(world, tenant_a):
    ec2 = world.ec2(DR)
    volume = ec2.create_volume(AvailabilityZone=f"{DR}a", Size=8)["VolumeId"]
    for _ in range(2):
        ec2.create_snapshot(
            VolumeId=volume,
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Backup", "Value": "orders"}]}],
        )
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:Backup", "Values": ["orders"]}])
    newest = max(snapshots["Snapshots"], key=lambda s: s["StartTime"])
    rp = {"source": "snapshot_tag", "tag": {"key": "Backup", "value": "orders"}}
    run = _run(save(tenant_a, document(recovery_point=rp)))
    assert run.status == "passed", run.reasons
    assert run.recovery_point_ref == newest["SnapshotId"]
    assert run.rpo_seconds == pytest.approx((run.started_at - newest["StartTime"]).total_seconds())


def test_missing_snapshot_fails_the_rpo_but_still_measures_rto(world, tenant_a):
    rp = {"source": "snapshot_tag", "tag": {"key": "Backup", "value": "none"}}
    run = _run(save(tenant_a, document(recovery_point=rp)))
    assert run.status == "failed"
    assert run.rto_met is True and run.rpo_met is False
    assert run.reasons == ["RPO not measurable: no recovery point found"]
    assert world.tagged_live(DR) == []


def test_one_active_run_per_definition_is_a_database_constraint(world, tenant_a):
    from django.db import IntegrityError, transaction

    from apps.resilience.services import DrillInProgress

    definition = save(tenant_a, document())
    first = drill_run_start(actor=None, definition=definition, trigger="manual")
    with pytest.raises(DrillInProgress):
        drill_run_start(actor=None, definition=definition, trigger="manual")
    with pytest.raises(IntegrityError), transaction.atomic():  # not only a check in Python
        DrillRun.objects.create(
            organization=first.organization,
            definition=definition,
            definition_digest="x",
            trigger="manual",
            deadline_at=first.deadline_at,
            rto_objective_seconds=1,
            rpo_objective_seconds=1,
            status="running",
        )
    assert DrillRun.objects.filter(definition=definition).count() == 1
    drill_run_execute(run=first)
    assert drill_run_start(actor=None, definition=definition, trigger="manual").status == "queued"


def test_run_request_runs_in_process_without_a_cluster(world, tenant_a, django_capture_on_commit_callbacks):
    definition = save(tenant_a, document())
    with django_capture_on_commit_callbacks(execute=True):
        run = drill_run_request(actor=None, definition=definition)
    run.refresh_from_db()
    assert run.status == "passed"
    assert world.tagged_live(DR) == []


def test_a_finished_run_is_not_run_again(world, tenant_a):
    run = _run(save(tenant_a, document()))
    steps = DrillStep.objects.filter(run=run).count()
    assert drill_run_execute(run=run).status == "passed"
    assert DrillStep.objects.filter(run=run).count() == steps
