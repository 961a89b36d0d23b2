"""A snapshot is written after every scan, promotion and revocation without the task cluster (qlrf.taskqueue, ADR 010).

No worker: in-process once the transaction commits. A django-q2 cluster heartbeat visible through the broker: queued
(the real ORM broker, the real ``Stat`` heartbeat a cluster saves). A rolled-back transaction: nothing.
"""

import datetime

import pytest
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from apps.drift.models import DriftSnapshot
from apps.images.services import channel_promote, image_version_revoke
from apps.images.services.lifecycle import image_revocations_apply
from apps.inventory.services import scan_run_now
from qlrf import taskqueue
from tests.factories.images import register
from tests.inventory.conftest import synthetic

SNAPSHOT_TASK = "apps.drift.tasks.drift_snapshot_task"


@pytest.fixture
def orm_broker(monkeypatch):
    """django-q2's ORM broker, not synchronous: a queued task stays in the database (as with a real cluster)."""
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    return get_broker()


@pytest.fixture
def heartbeat(orm_broker):
    """Save a cluster heartbeat the way a running cluster's sentinel does (``Stat.save``); removed afterwards."""
    saved = []

    def beat(status=Conf.IDLE, cluster_id="test-cluster-asof"):
        stat = Status(pid=4242, cluster_id=cluster_id)
        stat.status = status
        orm_broker.set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(stat, True), 30)
        saved.append(Stat.get_key(cluster_id))

    yield beat
    cache = caches[Conf.CACHE]
    for key in saved:
        cache.delete(key)
    cache.delete(Conf.Q_STAT)


@pytest.fixture
def fleet(tenant_a, envs, ubuntu_contract):
    v1 = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{"platform": "aws", "image_ref": "ami-1"}])
    v2 = register(tenant_a, ubuntu_contract, "1.1.0", artifacts=[{"platform": "aws", "image_ref": "ami-2"}])
    connector = synthetic(
        tenant_a, count=6, regions={"aws": ["eu-west-1"]}, environments=["prod"], image_refs={"aws": [["ami-1", 1]]}
    )
    return {"v1": v1, "v2": v2, "connector": connector, "prod": envs["prod"]}


def _queued() -> list[dict]:
    return [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]


@pytest.mark.django_db(transaction=True)
def test_no_worker_snapshot_written_in_process_on_real_commit(tenant_a, fleet):
    assert taskqueue.task_mode() == "inline"
    channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])  # commits: no surrounding atomic
    scan_run_now(actor=None, connector=fleet["connector"], trigger="cli")
    image_version_revoke(actor=None, version=fleet["v2"], reason="CVE-2026-0001")
    triggers = list(DriftSnapshot.objects.order_by("taken_at", "id").values_list("trigger", flat=True))
    assert triggers == ["promotion", "scan", "revocation"]
    last = DriftSnapshot.objects.order_by("-taken_at", "-id").first()
    assert sum(row.compliant for row in last.rows.all()) == 6


@pytest.mark.django_db
def test_with_a_cluster_heartbeat_the_snapshot_is_queued_not_written(
    tenant_a, fleet, heartbeat, django_capture_on_commit_callbacks
):
    heartbeat()
    assert taskqueue.cluster_running() and taskqueue.task_mode() == "queue"
    with django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])
    assert DriftSnapshot.objects.count() == 0
    (task,) = _queued()
    assert (task["func"], task["args"]) == (SNAPSHOT_TASK, (tenant_a.organization.pk, "promotion"))
    # the worker's side: the queued call writes the snapshot
    from django.utils.module_loading import import_string

    import_string(task["func"])(*task["args"])
    assert DriftSnapshot.objects.get().trigger == "promotion"


@pytest.mark.django_db
def test_a_stopped_cluster_heartbeat_means_in_process(tenant_a, fleet, heartbeat, django_capture_on_commit_callbacks):
    heartbeat(status=Conf.STOPPED)
    with django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])
    assert _queued() == [] and DriftSnapshot.objects.get().trigger == "promotion"


@pytest.mark.django_db
def test_task_mode_setting_overrides_the_heartbeat(
    tenant_a, fleet, heartbeat, settings, django_capture_on_commit_callbacks
):
    settings.QLRF_TASK_MODE = "queue"  # no heartbeat, queued anyway
    with django_capture_on_commit_callbacks(execute=True):
        channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])
    assert [task["args"][1] for task in _queued()] == ["promotion"] and DriftSnapshot.objects.count() == 0
    heartbeat()
    settings.QLRF_TASK_MODE = "inline"  # a cluster runs, in-process anyway
    with django_capture_on_commit_callbacks(execute=True):
        image_version_revoke(actor=None, version=fleet["v2"], reason="CVE-2026-0002")
    assert len(_queued()) == 1 and DriftSnapshot.objects.get().trigger == "revocation"


@pytest.mark.django_db
def test_a_rolled_back_transaction_writes_no_snapshot(tenant_a, fleet, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])
        image_version_revoke(actor=None, version=fleet["v2"], reason="CVE-2026-0003")
        raise RuntimeError("the request failed after the promotion")
    assert callbacks == [] and DriftSnapshot.objects.count() == 0


@pytest.mark.django_db
def test_scheduled_revocation_taking_effect_writes_a_snapshot(tenant_a, fleet, django_capture_on_commit_callbacks):
    soon = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        image_version_revoke(actor=None, version=fleet["v2"], reason="EOL", effective_at=soon)
    with django_capture_on_commit_callbacks(execute=True):
        assert image_revocations_apply(now=soon) == 1
    assert list(DriftSnapshot.objects.order_by("id").values_list("trigger", flat=True)) == ["revocation"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_in_process_snapshot_does_not_undo_the_promotion(tenant_a, fleet, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("snapshot store unavailable")

    monkeypatch.setattr("apps.drift.tasks.drift_snapshot_task", broken)
    assignment = channel_promote(actor=None, version=fleet["v1"], environment=fleet["prod"])
    assert assignment.pk and DriftSnapshot.objects.count() == 0
    assert "snapshot store unavailable" in caplog.text  # logged by Django's robust on_commit, not raised


def test_bad_task_mode_stops_startup(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import qlrf.settings.base as base

    monkeypatch.setenv("QLRF_TASK_MODE", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="QLRF_TASK_MODE"):
        importlib.reload(base)
    monkeypatch.delenv("QLRF_TASK_MODE")
    importlib.reload(base)
