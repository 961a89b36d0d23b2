"""Report schedules: upserted by name, validated, and run by django-q2's scheduler, pusher, worker and monitor."""

import datetime
from multiprocessing import Event, Queue, Value

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Success
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.scheduler import scheduler
from django_q.worker import worker

from apps.evidence.models import Report, ReportSchedule
from apps.evidence.services import report_schedule_create, report_schedule_delete, report_schedule_update

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "apps.evidence.tasks.report_scheduled_task"


def _schedule(tenant, **kwargs):
    values = {"name": "weekly", "kind": "drift-csv", "cron": "0 6 * * 1", "recipients": ["ciso@example.com"]}
    return report_schedule_create(
        actor=tenant.users["operator"], organization=tenant.organization, **{**values, **kwargs}
    )


def test_schedule_is_upserted_by_name_and_removed_when_disabled(tenant_a):
    schedule = _schedule(tenant_a)
    rows = Schedule.objects.filter(name=schedule.schedule_name)
    assert [(s.func, s.args, s.schedule_type, s.cron) for s in rows] == [(TASK, f"({schedule.pk},)", "C", "0 6 * * 1")]
    report_schedule_update(actor=tenant_a.users["operator"], schedule=schedule, cron="30 7 1 * *")
    assert list(rows.values_list("cron", flat=True)) == ["30 7 1 * *"]
    report_schedule_update(actor=tenant_a.users["operator"], schedule=schedule, enabled=False)
    assert not Schedule.objects.filter(name=schedule.schedule_name).exists()
    report_schedule_delete(actor=tenant_a.users["operator"], schedule=schedule)
    assert not ReportSchedule.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"cron": "every monday"}, "cron", "invalid_cron"),
        ({"kind": "poster"}, "kind", "invalid_choice"),
        ({"recipients": []}, "recipients", "required"),
        ({"recipients": ["not-an-address"]}, "recipients/0", "invalid_email"),
    ],
)
def test_bad_schedules_are_refused_and_write_nothing(tenant_a, kwargs, field, code):
    with pytest.raises(ValidationError) as caught:
        _schedule(tenant_a, **kwargs)
    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert not ReportSchedule.objects.exists() and not Schedule.objects.exists()


def test_the_schedule_generates_and_mails_a_report_through_the_broker(tenant_a, monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", False)
    schedule = _schedule(tenant_a, filters={"by": "environment"})
    Schedule.objects.filter(name=schedule.schedule_name).update(next_run=timezone.now() - datetime.timedelta(minutes=1))
    broker = get_broker()
    broker.purge_queue()
    scheduler(broker=broker)
    assert broker.queue_size() == 1
    assert Report.objects.count() == 0  # queued in the broker, not run inline
    task_queue, result_queue, event = Queue(), Queue(), Event()
    event.set()
    pusher(task_queue, event, broker=broker)
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    result_queue.put("STOP")
    monitor(result_queue, broker=broker)
    report = Report.objects.get()
    assert (report.kind, report.filters, report.schedule_name, report.generated_by) == (
        "drift-csv",
        {"by": "environment"},
        "weekly",
        None,
    )
    assert Success.objects.get(func=TASK).result == f"report {report.pk} sent to 1 recipient(s)"
    (message,) = mail.outbox
    assert message.to == ["ciso@example.com"] and message.from_email == settings.QLRF_REPORT_FROM_EMAIL
    (name, content, media_type) = message.attachments[0]
    assert (name, media_type) == (report.filename, "text/csv")
    assert content.lstrip("\ufeff").startswith("environment,platform,site,total_assets")
    next_run = Schedule.objects.get(name=schedule.schedule_name).next_run
    assert next_run > timezone.now() and (next_run.weekday(), next_run.hour, next_run.minute) == (0, 6, 0)
    assert type(broker).__name__ == ("Redis" if settings.REDIS_URL else "ORM")
