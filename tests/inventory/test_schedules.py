"""Connector schedules: upserted by name, and run by django-q2's scheduler, pusher, worker and monitor through the
configured broker (the ORM broker on SQLite runs, Redis when QLRF_REDIS_URL is set)."""

import datetime
from multiprocessing import Event, Queue, Value

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Success
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.scheduler import scheduler
from django_q.worker import worker

from apps.inventory.models import ScanRun
from apps.inventory.services import connector_update
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db(transaction=True)


def test_schedule_is_upserted_by_name_and_removed_when_disabled(tenant_a):
    connector = synthetic(tenant_a)
    schedules = Schedule.objects.filter(name=connector.schedule_name)
    assert [(s.func, s.args, s.minutes) for s in schedules] == [
        ("apps.inventory.tasks.connector_scheduled_scan_task", f"({connector.pk},)", 360)
    ]
    connector_update(actor=None, connector=connector, schedule_minutes=30)
    assert list(schedules.values_list("minutes", flat=True)) == [30]
    connector_update(actor=None, connector=connector, enabled=False)
    assert not Schedule.objects.filter(name=connector.schedule_name).exists()


def test_the_schedule_runs_a_scan_through_the_broker(tenant_a, monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", False)
    connector = synthetic(tenant_a, count=6)
    Schedule.objects.filter(name=connector.schedule_name).update(
        next_run=timezone.now() - datetime.timedelta(minutes=1)
    )
    broker = get_broker()
    broker.purge_queue()
    scheduler(broker=broker)
    assert broker.queue_size() == 1
    assert ScanRun.objects.count() == 0  # queued in the broker, not run inline

    def one_pass():  # the cluster's pusher, one worker and the monitor, each for what the broker holds now
        task_queue, result_queue, event = Queue(), Queue(), Event()
        event.set()
        pusher(task_queue, event, broker=broker)
        task_queue.put("STOP")
        worker(task_queue, result_queue, Value("f", -1))
        result_queue.put("STOP")
        monitor(result_queue, broker=broker)

    one_pass()
    run = ScanRun.objects.get(connector=connector)
    assert run.status == "running"  # fanned out: one task per scope queued
    assert Success.objects.get(func="apps.inventory.tasks.connector_scheduled_scan_task").result == "running"
    for _ in range(10):
        if not broker.queue_size():
            break
        one_pass()
    run.refresh_from_db()
    assert (run.status, run.trigger, run.new) == ("succeeded", "schedule", 6)
    scope_results = Success.objects.filter(func="apps.inventory.tasks.scan_scope_task").values_list("result", flat=True)
    assert sorted(scope_results) == ["succeeded", "succeeded"]  # one per scope (two regions)
    assert Schedule.objects.get(name=connector.schedule_name).next_run > timezone.now()
    assert type(broker).__name__ == ("Redis" if settings.REDIS_URL else "ORM")
