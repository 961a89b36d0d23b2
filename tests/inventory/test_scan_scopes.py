"""A scan fanned out as one task per scope (#17): claims, one transaction per scope, the last report finishes the run,
the sweeper re-queues the scope of a dead worker — here on the test database with the task queue recorded, so each
step is driven by hand. The same path with real worker processes, Redis and a SIGKILL: test_scan_scopes_killed.py.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.inventory.connectors.synthetic import SyntheticConnector
from apps.inventory.models import Asset, AssetImageChange, AssetPresence, ScanRun, ScanScope
from apps.inventory.services import scan_create, scan_execute
from apps.inventory.services.scans import SCOPE_TASK, scan_scopes_sweep, scope_apply, scope_claim, scope_execute
from apps.inventory.services.sync import sync_state
from apps.inventory.tasks import connector_scan_task, scan_scope_task
from apps.tenancy.models import AuditEvent
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db

CONFIG = {"count": 2400, "accounts": 2, "regions": {"aws": ["eu-west-1", "us-east-1"]}}  # 4 scopes of 600
KEYS = ["aws-000/eu-west-1", "aws-000/us-east-1", "aws-001/eu-west-1", "aws-001/us-east-1"]


@pytest.fixture
def queue(monkeypatch):
    """django-q2's ``async_task`` recorded instead of run: the test plays the workers."""
    calls: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: calls.append((func, *args)))
    return calls


def _fanned_out(tenant, queue, **config):
    connector = synthetic(tenant, **{**CONFIG, **config})
    run = scan_execute(run=scan_create(actor=None, connector=connector, trigger="manual"), fan_out=True)
    assert run.status == "running"
    return connector, run


def _expire(run, key):
    ScanScope.objects.filter(run=run, key=key).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))


class Killed(BaseException):
    """What a SIGKILL does to the scope's transaction, in-process: nothing after it runs, the transaction is undone."""


def test_a_queued_scan_runs_one_task_per_scope_and_the_last_report_finishes_it(tenant_a, queue):
    _connector, run = _fanned_out(tenant_a, queue)
    assert queue == [(SCOPE_TASK, run.pk, key) for key in KEYS]
    assert ScanScope.objects.filter(run=run, status="pending").count() == 4
    for n, (_func, run_id, key) in enumerate(queue):
        assert scan_scope_task(run_id, key) == "succeeded"
        run.refresh_from_db()
        assert run.status == ("succeeded" if n == 3 else "running")  # only the last report finishes it
        assert run.progress_pct == round(100 * (n + 1) / 4)
    assert (run.discovered, run.new, run.unchanged, run.removed) == (2400, 2400, 0, 0)
    assert {s["status"] for s in run.scopes.values()} == {"succeeded"}
    assert OutboxEvent.objects.filter(type="asset.discovered").count() == 4  # one per scope, once
    assert OutboxEvent.objects.filter(type="scan.finished").count() == 1
    assert AuditEvent.objects.filter(action="inventory.scanrun.finish").count() == 1
    assert AssetPresence.objects.count() == AssetImageChange.objects.count() == Asset.objects.count() == 2400


def test_the_queued_task_fans_out_on_the_embedded_queue_end_to_end(tenant_a, settings):
    """``sync=True`` (the test profile) runs each queued scope task at once, through django-q2 itself."""
    settings.QLRF_SCAN_FAN_OUT = True
    connector = synthetic(tenant_a, **CONFIG)
    run = scan_create(actor=None, connector=connector, trigger="manual")
    assert connector_scan_task(run.pk) == "running"  # the coordinator returns once the scopes are queued
    run.refresh_from_db()
    assert run.status == "succeeded" and run.new == 2400
    assert list(ScanScope.objects.filter(run=run).values_list("attempts", flat=True)) == [1, 1, 1, 1]
    rescan = scan_create(actor=None, connector=connector, trigger="manual")
    connector_scan_task(rescan.pk)
    rescan.refresh_from_db()
    assert (rescan.status, rescan.unchanged, rescan.new, rescan.updated) == ("succeeded", 2400, 0, 0)


def test_a_worker_killed_mid_scope_leaves_nothing_and_its_scope_is_retried_once(tenant_a, queue, monkeypatch):
    _connector, run = _fanned_out(tenant_a, queue)
    victim = KEYS[1]
    row = scope_claim(run.pk, victim)
    assert row.attempts == 1 and row.worker

    real = SyntheticConnector.iter_assets

    def dies_after_two_batches(self, scope):
        for n, asset in enumerate(real(self, scope)):
            if n == 550:  # past the first batch of 500 written inside the scope's transaction
                raise Killed
            yield asset

    monkeypatch.setattr("apps.inventory.services.sync.BATCH_SIZE", 500)
    monkeypatch.setattr(SyntheticConnector, "iter_assets", dies_after_two_batches)
    fleet = SyntheticConnector(CONFIG)
    scope = next(s for s in fleet.scopes() if s.key == victim)
    with pytest.raises(Killed):
        scope_apply(row, sync_state(ScanRun.objects.get(pk=run.pk)), fleet, scope)
    monkeypatch.setattr(SyntheticConnector, "iter_assets", real)
    assert not Asset.objects.filter(scope_key=victim).exists()  # the batch written before the kill is undone
    assert ScanScope.objects.get(run=run, key=victim).status == "running"  # the dead worker's claim

    for key in (KEYS[0], KEYS[2], KEYS[3]):
        scope_execute(run.pk, key)
    assert scope_execute(run.pk, victim) == "skipped"  # a duplicate message: the lease still holds it
    run.refresh_from_db()
    assert run.status == "running"  # three of four reported: not finished

    queue.clear()
    _expire(run, victim)
    assert scan_scopes_sweep() == {"requeued": 1, "failed": 0, "finished": 0}
    assert queue == [(SCOPE_TASK, run.pk, victim)]
    assert scope_execute(run.pk, victim) == "succeeded"
    run.refresh_from_db()
    assert run.status == "succeeded" and (run.new, run.unchanged) == (2400, 0)  # nothing applied twice
    assert run.scopes[victim] == {"status": "succeeded", "discovered": 600, "removed": 0, "attempts": 2}
    assert OutboxEvent.objects.filter(type="asset.discovered", payload__scope=victim).count() == 1
    assert AssetImageChange.objects.filter(asset__scope_key=victim).count() == 600


def test_a_scope_whose_every_attempt_dies_fails_and_the_run_is_partial(tenant_a, queue, settings):
    settings.QLRF_SCAN_SCOPE_MAX_ATTEMPTS = 2
    _connector, run = _fanned_out(tenant_a, queue)
    for key in KEYS[1:]:
        scope_execute(run.pk, key)
    for _attempt in range(2):
        assert scope_claim(run.pk, KEYS[0]) is not None  # claimed, then the worker dies
        _expire(run, KEYS[0])
        scan_scopes_sweep()
    assert scope_claim(run.pk, KEYS[0]) is None
    run.refresh_from_db()
    assert run.status == "partial"
    assert run.scopes[KEYS[0]]["error"] == "abandoned after 2 attempts: the worker stopped responding"
    assert run.error.startswith(f"{KEYS[0]}: abandoned")
    assert not Asset.objects.filter(scope_key=KEYS[0]).exists()
    assert AuditEvent.objects.filter(action="inventory.scanrun.finish").count() == 1


def test_a_superseded_claim_is_undone_at_its_fence(tenant_a, queue):
    """A worker thought dead but alive (SQLite has no row lock to show it): the claim it lost applies nothing."""
    _connector, run = _fanned_out(tenant_a, queue)
    stale = scope_claim(run.pk, KEYS[0])
    _expire(run, KEYS[0])
    scan_scopes_sweep()
    assert scope_execute(run.pk, KEYS[0]) == "succeeded"  # the second claim applied it
    fleet = SyntheticConnector(CONFIG)
    scope = next(s for s in fleet.scopes() if s.key == KEYS[0])
    assert scope_apply(stale, sync_state(ScanRun.objects.get(pk=run.pk)), fleet, scope) is False
    assert Asset.objects.filter(scope_key=KEYS[0]).count() == 600
    assert OutboxEvent.objects.filter(type="asset.discovered", payload__scope=KEYS[0]).count() == 1


def test_a_pending_scope_whose_message_was_lost_is_queued_again(tenant_a, queue):
    _connector, run = _fanned_out(tenant_a, queue)
    queue.clear()
    assert scan_scopes_sweep()["requeued"] == 0  # freshly queued: not lost yet
    ScanScope.objects.filter(run=run, key=KEYS[2]).update(enqueued_at=timezone.now() - datetime.timedelta(hours=1))
    assert scan_scopes_sweep()["requeued"] == 1 and queue == [(SCOPE_TASK, run.pk, KEYS[2])]


def test_a_run_whose_scopes_are_done_but_unfinished_is_finished_by_the_sweeper(tenant_a, queue):
    _connector, run = _fanned_out(tenant_a, queue)
    for key in KEYS:
        row = scope_claim(run.pk, key)
        fleet = SyntheticConnector(CONFIG)
        scope_apply(
            row, sync_state(ScanRun.objects.get(pk=run.pk)), fleet, next(s for s in fleet.scopes() if s.key == key)
        )
    run.refresh_from_db()
    assert run.status == "running"  # the last worker died between its commit and its report
    assert scan_scopes_sweep()["finished"] == 1
    run.refresh_from_db()
    assert run.status == "succeeded" and run.new == 2400
    scan_scopes_sweep()
    assert AuditEvent.objects.filter(action="inventory.scanrun.finish").count() == 1


def test_hostile_scope_tasks_do_nothing(tenant_a, queue, tenant_b):
    _connector, run = _fanned_out(tenant_a, queue)
    assert scope_execute(run.pk, "no-such/scope") == "skipped"
    assert scope_execute(987654, KEYS[0]) == "skipped"
    ScanScope.objects.create(organization=tenant_a.organization, run=run, key="aws-999/nowhere", position=9)
    assert scope_execute(run.pk, "aws-999/nowhere") == "failed"  # a key the connector does not list
    assert Asset.objects.count() == 0
    other = ScanRun.objects.create(organization=tenant_b.organization, connector=synthetic(tenant_b), status="failed")
    assert scope_execute(other.pk, KEYS[0]) == "skipped"  # not a running run


def test_a_fanned_out_run_that_shows_life_is_not_abandoned_as_stale(tenant_a, queue, settings):
    connector, run = _fanned_out(tenant_a, queue)
    long_ago = timezone.now() - datetime.timedelta(seconds=3 * settings.Q_CLUSTER["timeout"])
    ScanRun.objects.filter(pk=run.pk).update(queued_at=long_ago)
    with pytest.raises(Exception, match="already queued or running"):
        scan_create(actor=None, connector=connector, trigger="manual")
    ScanScope.objects.filter(run=run).update(enqueued_at=long_ago)
    scan_create(actor=None, connector=connector, trigger="manual")  # no life left: abandoned, a new run starts
    run.refresh_from_db()
    assert run.status == "failed" and run.error.startswith("abandoned")
