"""A scheduled drill runs from the task cluster (scheduler → broker → worker → monitor); the CLI runs and lists."""

from __future__ import annotations

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

from apps.resilience.models import DrillRun
from apps.resilience.tasks import drill_scheduled_task
from qlrf.cli import main
from qlrf.schedules import RECURRING

from .conftest import DR, document, save

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_schedule_runs_a_drill_through_the_broker(world, tenant_a, monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", False)
    definition = save(tenant_a, document())
    later = timezone.now() + datetime.timedelta(days=1)
    Schedule.objects.exclude(name=definition.schedule_name).update(next_run=later)  # the connector's scan schedule
    Schedule.objects.filter(name=definition.schedule_name).update(
        next_run=timezone.now() - datetime.timedelta(minutes=1)
    )
    broker = get_broker()
    broker.purge_queue()
    scheduler(broker=broker)
    assert broker.queue_size() == 1
    assert DrillRun.objects.count() == 0  # queued in the broker, not run inline
    task_queue, result_queue, event = Queue(), Queue(), Event()
    event.set()
    pusher(task_queue, event, broker=broker)
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    result_queue.put("STOP")
    monitor(result_queue, broker=broker)
    run = DrillRun.objects.get(definition=definition)
    assert (run.status, run.trigger) == ("passed", "schedule")
    assert Success.objects.get(func="apps.resilience.tasks.drill_scheduled_task").result == "passed"
    assert Schedule.objects.get(name=definition.schedule_name).next_run > timezone.now()
    assert world.tagged_live(DR) == []


def test_scheduled_task_skips_while_a_run_is_active_and_when_disabled(world, tenant_a):
    from apps.resilience.services import drill_run_start

    definition = save(tenant_a, document())
    drill_run_start(actor=None, definition=definition, trigger="manual")
    assert drill_scheduled_task(definition.pk) == "skipped"
    assert DrillRun.objects.count() == 1
    definition.enabled = False
    definition.save()
    assert drill_scheduled_task(definition.pk) == "disabled"


def test_janitor_is_an_installation_schedule():
    assert ("resilience-drill-janitor", "apps.resilience.tasks.drill_janitor_task", 10) in [
        (job.name, job.func, job.minutes) for job in RECURRING
    ]


def test_cli_run_wait_and_history(world, tenant_a, capsys):
    save(tenant_a, document())
    assert main(["drill", "run", "alpha/web-dr", "--wait"]) == 0
    out = capsys.readouterr().out
    run = DrillRun.objects.get()
    assert out.startswith(f"run {run.pk} alpha/web-dr ")
    assert " passed RTO " in out and "RPO " in out
    assert main(["drill", "history"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [out.strip()]
    assert world.tagged_live(DR) == []


def test_cli_run_failures_are_one_line(world, tenant_a, capsys):
    assert main(["drill", "run", "alpha/nope"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "rf: error: no single drill matches 'alpha/nope'; use ORG/NAME or the drill id"
    )
    checks = [{"name": "app", "type": "tcp", "host": "127.0.0.1", "port": 9, "retries": 0, "timeout_seconds": 1}]
    save(tenant_a, document(health_checks=checks))
    assert main(["drill", "run", "web-dr", "--wait"]) == 1
    captured = capsys.readouterr()
    assert " failed RTO -/1800s" in captured.out
    assert captured.err.strip().splitlines()[-1] == "rf: error: drill web-dr failed"
