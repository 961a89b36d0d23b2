"""Stored insights are kept for QLRF_INSIGHTS_RETENTION_DAYS, then pruned by a daily job; a pruned answer is simply
computed again when asked."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.insights.models import Insight
from apps.insights.services import insights_prune
from apps.insights.tasks import insights_prune_task
from qlrf.schedules import RECURRING
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _age(insight_id: int, days: float) -> None:
    Insight.objects.filter(pk=insight_id).update(created_at=timezone.now() - datetime.timedelta(days=days))


def test_answers_older_than_the_retention_are_pruned_and_newer_ones_kept(tenant_a, fleet, settings):
    settings.QLRF_INSIGHTS_RETENTION_DAYS = 30
    client = client_for(tenant_a.users["viewer"])
    old = client.get(reverse("insights"), {"env": "prod"}).json()["id"]
    young = client.get(reverse("insights"), {"env": "dev"}).json()["id"]
    _age(old, 31)
    _age(young, 29)
    assert insights_prune_task() == 1
    assert list(Insight.objects.values_list("id", flat=True)) == [young]
    # the pruned question is answered again, from the data, as before
    again = client.get(reverse("insights"), {"env": "prod"}).json()
    assert again["id"] != old and again["causes"][0]["kind"] == "grace_ended"


def test_a_retention_of_zero_keeps_everything(tenant_a, fleet, settings):
    settings.QLRF_INSIGHTS_RETENTION_DAYS = 0
    answer = client_for(tenant_a.users["viewer"]).get(reverse("insights")).json()["id"]
    _age(answer, 10_000)
    assert insights_prune() == 0 and Insight.objects.filter(pk=answer).exists()


def test_the_prune_runs_daily():
    assert ("insights-prune", "apps.insights.tasks.insights_prune_task", 24 * 60) in [
        (job.name, job.func, job.minutes) for job in RECURRING
    ]
