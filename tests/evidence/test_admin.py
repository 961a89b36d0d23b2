"""Admin of report schedules: created through the service (Schedule upserted), history models read-only."""

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule

from apps.evidence.models import ReportSchedule

pytestmark = pytest.mark.django_db


def test_operator_adds_a_schedule_in_the_admin_and_a_viewer_cannot(tenant_a):
    client = Client()
    client.force_login(tenant_a.users["operator"])
    data = {
        "organization": tenant_a.organization.pk,
        "name": "monday",
        "kind": "executive-pdf",
        "filters": '{"env": ""}',
        "cron": "0 6 * * 1",
        "recipients": '["ciso@example.com"]',
        "enabled": "on",
    }
    response = client.post(reverse("admin:evidence_reportschedule_add"), data)
    assert response.status_code == 302, response.content[:2000]
    schedule = ReportSchedule.objects.get()
    assert (schedule.created_by, schedule.recipients) == (tenant_a.users["operator"], ["ciso@example.com"])
    assert Schedule.objects.get(name=schedule.schedule_name).cron == "0 6 * * 1"
    assert client.get(reverse("admin:evidence_report_changelist")).status_code == 200
    viewer = Client()
    viewer.force_login(tenant_a.users["viewer"])
    assert viewer.post(reverse("admin:evidence_reportschedule_add"), {**data, "name": "x"}).status_code == 403
    assert ReportSchedule.objects.count() == 1
