"""GET /api/v1/insights: grounded causes of a scope, computed once per data generation; bad input and other tenants."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.images.services import channel_promote
from apps.insights import services
from apps.insights.models import Insight
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_top_cause_with_evidence_narrative_and_provenance(tenant_a, fleet):
    body = client_for(tenant_a.users["viewer"]).get(reverse("insights"), {"env": "prod"}).json()
    top = body["causes"][0]
    assert (top["kind"], top["machines"], top["share_pct"]) == ("grace_ended", 12, 100.0)
    assert top["evidence"]["baseline"] == "ubuntu-2204-base@1.1.0" and top["evidence"]["days_since_grace_end"] == 0
    assert body["provenance"]["kind"] == "deterministic"
    assert (body["provenance"]["template_id"], body["provenance"]["template_version"]) == ("explain", 1)
    assert body["narrative"].startswith("alpha env prod: 12 of 12 machine(s) drift (coverage 0.0%).")
    assert "promoted to ubuntu-2204-base@1.1.0 0 day(s) ago" in body["narrative"]
    assert body["risk_summary"].startswith("Risk in alpha env prod: 0 machine(s) on revoked versions, 12 outdated")
    assert body["scope"] == {"environment": "prod", "site": None, "platform": None, "as_of": None, "snapshot_id": None}


def test_the_same_question_on_the_same_data_is_computed_once(tenant_a, fleet, envs, monkeypatch):
    calls = []
    real = services.insight_causes
    monkeypatch.setattr(services, "insight_causes", lambda *a: calls.append(1) or real(*a))
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("insights"), {"env": "prod"}).json()
    second = client.get(reverse("insights"), {"env": "prod"}).json()
    assert first["id"] == second["id"] and len(calls) == 1
    assert client.get(reverse("insights"), {"env": "dev"}).json()["id"] != first["id"]  # another question
    assert len(calls) == 2
    channel_promote(actor=None, version=fleet["v1"], environment=envs["prod"])  # new data: a new generation
    third = client.get(reverse("insights"), {"env": "prod"}).json()
    assert third["id"] != first["id"] and third["generation"] != first["generation"] and len(calls) == 3
    assert third["causes"] == []
    assert third["narrative"] == "alpha env prod: no machine drifts (12 machine(s), coverage 100.0%)."
    assert Insight.objects.filter(organization=tenant_a.organization).count() == 3


def test_an_expired_live_answer_is_recomputed(tenant_a, fleet):
    client = client_for(tenant_a.users["viewer"])
    first = client.get(reverse("insights")).json()
    Insight.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    second = client.get(reverse("insights")).json()
    assert second["id"] != first["id"] and Insight.objects.count() == 1


def test_as_of_names_the_snapshot_in_force(tenant_a, fleet):
    at = timezone.now().isoformat()  # after the scan's snapshot
    body = client_for(tenant_a.users["viewer"]).get(reverse("insights"), {"as_of": at}).json()
    assert body["scope"]["snapshot_id"] is not None and body["scope"]["as_of"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"env": "nope"}, 400, "invalid_parameter"),
        ({"site": "nope"}, 400, "invalid_parameter"),
        ({"platform": "mainframe"}, 400, "invalid_parameter"),
        ({"as_of": "yesterday-ish"}, 400, "invalid_as_of"),
        ({"as_of": "2999-01-01"}, 400, "as_of_in_future"),
        ({"as_of": "2001-01-01"}, 404, "no_snapshot_before"),
        ({"organization": "bravo"}, 404, "not_found"),
    ],
)
def test_bad_parameters_are_4xx_with_a_stable_code(tenant_a, tenant_b, fleet, params, status, code):
    response = client_for(tenant_a.users["viewer"]).get(reverse("insights"), params)
    assert response.status_code == status and response.json()["code"] == code


def test_another_tenants_insight_id_gives_nothing(tenant_a, tenant_b, fleet):
    mine = client_for(tenant_a.users["viewer"]).get(reverse("insights")).json()
    assert client_for(tenant_a.users["viewer"]).get(reverse("insight-detail", args=[mine["id"]])).status_code == 200
    theirs = client_for(tenant_b.users["viewer"]).get(reverse("insight-detail", args=[mine["id"]]))
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    assert client_for(tenant_b.users["viewer"]).get(reverse("insight-detail", args=[10**9])).status_code == 404
    other = client_for(tenant_b.users["viewer"]).get(reverse("insights")).json()
    assert other["organization"] == "bravo" and other["causes"] == []


def test_anonymous_is_refused(api_client, fleet):
    assert api_client.get(reverse("insights")).status_code in (401, 403)
