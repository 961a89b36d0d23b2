"""Drill API: the generic isolation suite for definitions and runs, run-now for engineers only, bad documents as
JSON-pointer faults, another tenant's ids as 404, and concurrent run-now requests making one run."""

from __future__ import annotations

import itertools
import json
import threading
import time

import pytest
from django.db import OperationalError
from django.utils import timezone

from apps.images.models import ImageFamily
from apps.inventory.models import Connector
from apps.inventory.services import connector_create
from apps.resilience.models import DrillDefinition, DrillRun
from apps.resilience.services import DrillInProgress, drill_run_start
from apps.tenancy.models import Environment
from qlrf.taskqueue import is_lock_error
from tests import factories as tf
from tests.api_base import TenantAPITests
from tests.conftest import client_for
from tests.factories.images import UBUNTU, register

from .conftest import ACCOUNT, DOCUMENT, document, save

_names = itertools.count(1)


def prerequisites(tenant) -> None:
    """The family, prod environment and AWS connector a drill names (no cloud call is made to save one)."""
    organization = tenant.organization
    if not Environment.objects.filter(organization=organization, slug="prod").exists():
        tf.EnvironmentFactory(organization=organization, slug="prod", tier="prod")
    if not ImageFamily.objects.filter(organization=organization, slug="ubuntu-2204-base").exists():
        register(tenant, UBUNTU, "1.0.0")
    if not Connector.objects.filter(organization=organization, name="aws-dr").exists():
        config = {"accounts": [{"account_id": ACCOUNT}], "regions": ["eu-west-1"]}
        connector_create(actor=None, organization=organization, platform="aws", name="aws-dr", config=config)


def unique_document() -> dict:
    return document(metadata={"name": f"drill-{next(_names)}"})


def make_definition(tenant) -> DrillDefinition:
    prerequisites(tenant)
    return save(tenant, unique_document())


class TestDrillAPI(TenantAPITests):
    basename = "drill"
    model = DrillDefinition
    deletable = False

    def make(self, tenant):
        return make_definition(tenant)

    def create_payload(self, tenant) -> dict:
        prerequisites(tenant)
        return {"organization": tenant.organization.slug, "definition": unique_document()}


class TestDrillRunAPI(TenantAPITests):
    basename = "drill-run"
    model = DrillRun
    writable = False
    deletable = False

    def make(self, tenant):
        definition = make_definition(tenant)
        run = drill_run_start(actor=None, definition=definition, trigger="manual")
        DrillRun.objects.filter(pk=run.pk).update(status="passed", finished_at=timezone.now(), rto_seconds=12.5)
        return run


@pytest.mark.django_db
class TestDrillActions:
    def test_create_from_yaml_text_and_list_with_last_run(self, tenant_a):
        prerequisites(tenant_a)
        client = client_for(tenant_a.users["engineer"])
        text = json.dumps(DOCUMENT)
        response = client.post("/api/v1/drills", {"definition": text}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["name"], body["platform"], body["region"], body["last_run"]) == (
            "web-dr",
            "aws",
            "eu-west-1",
            None,
        )
        listed = client.get("/api/v1/drills").json()
        assert [row["name"] for row in listed["results"]] == ["web-dr"]

    def test_invalid_document_is_422_with_json_pointers_and_writes_nothing(self, tenant_a):
        prerequisites(tenant_a)
        doc = document()
        doc["pilot_light"]["count"] = 0
        doc["health_checks"][0]["type"] = "ping"
        response = client_for(tenant_a.users["admin"]).post("/api/v1/drills", {"definition": doc}, format="json")
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_definition"
        assert sorted((e["path"], e["code"]) for e in body["errors"]) == [
            ("/health_checks/0/type", "bad_enum"),
            ("/pilot_light/count", "out_of_range"),
        ]
        assert DrillDefinition.objects.count() == 0

    @pytest.mark.parametrize("definition", [42, ["a"], None, "- not\n- a mapping\n", "{unclosed"])
    def test_wrong_bodies_are_refused(self, tenant_a, definition):
        prerequisites(tenant_a)
        response = client_for(tenant_a.users["admin"]).post("/api/v1/drills", {"definition": definition}, format="json")
        assert response.status_code in (400, 422)
        assert "code" in response.json()
        assert DrillDefinition.objects.count() == 0

    def test_names_of_another_tenant_do_not_resolve(self, tenant_a, tenant_b):
        prerequisites(tenant_a)
        response = client_for(tenant_b.users["admin"]).post("/api/v1/drills", {"definition": document()}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"][0]["path"] == "/workload/family"

    @pytest.mark.parametrize(
        ("role", "expected"), [("viewer", 403), ("operator", 403), ("engineer", 202), ("admin", 202)]
    )
    def test_run_now_is_for_engineers(self, tenant_a, role, expected, monkeypatch):
        monkeypatch.setattr("apps.resilience.services.runs.task_on_commit", lambda *a, **k: None)  # stays queued
        definition = make_definition(tenant_a)
        response = client_for(tenant_a.users[role]).post(f"/api/v1/drills/{definition.pk}/run")
        assert response.status_code == expected, response.content
        assert DrillRun.objects.count() == (1 if expected == 202 else 0)
        if expected == 202:
            assert (response.json()["status"], response.json()["trigger"]) == ("queued", "api")

    def test_run_now_on_another_tenants_drill_is_404(self, tenant_a, tenant_b):
        theirs = make_definition(tenant_b)
        response = client_for(tenant_a.users["admin"]).post(f"/api/v1/drills/{theirs.pk}/run")
        assert response.status_code == 404
        assert DrillRun.objects.count() == 0

    def test_second_run_now_while_one_is_active_is_409(self, tenant_a, monkeypatch):
        monkeypatch.setattr("apps.resilience.services.runs.task_on_commit", lambda *a, **k: None)
        definition = make_definition(tenant_a)
        client = client_for(tenant_a.users["engineer"])
        assert client.post(f"/api/v1/drills/{definition.pk}/run").status_code == 202
        response = client.post(f"/api/v1/drills/{definition.pk}/run")
        assert response.status_code == 409
        assert response.json()["code"] == "drill_in_progress"
        assert DrillRun.objects.count() == 1

    def test_run_detail_has_steps_and_checks_and_filters(self, tenant_a):
        definition = make_definition(tenant_a)
        run = drill_run_start(actor=None, definition=definition, trigger="manual")
        client = client_for(tenant_a.users["viewer"])
        detail = client.get(f"/api/v1/drill-runs/{run.pk}").json()
        assert (detail["drill"], detail["status"], detail["steps"], detail["checks"]) == (
            definition.name,
            "queued",
            [],
            [],
        )
        assert client.get("/api/v1/drill-runs", {"status": "passed"}).json()["results"] == []
        assert [r["id"] for r in client.get("/api/v1/drill-runs", {"drill": definition.name}).json()["results"]] == [
            run.pk
        ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_run_requests_make_one_run(tenant_a):
    definition = make_definition(tenant_a)
    barrier, outcomes = threading.Barrier(4), []

    def request() -> None:
        from django.db import connection

        barrier.wait()
        try:
            for _ in range(100):  # the test database (in-memory SQLite, shared cache) answers a lock at once
                try:
                    drill_run_start(actor=None, definition=definition, trigger="api")
                    outcomes.append("run")
                except DrillInProgress:
                    outcomes.append("busy")
                except OperationalError as exc:
                    if not is_lock_error(exc):
                        raise
                    time.sleep(0.02)
                    continue
                break
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["busy", "busy", "busy", "run"]
    assert DrillRun.objects.filter(definition=definition).count() == 1
