"""Drill results where auditors look: the portal list (last result, RTO/RPO trend against objectives) and a run's
timeline, the executive PDF, and evidence packs (deterministic, scoped by period and environment)."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from django.utils import timezone

from apps.evidence.reports.render import pdf_build
from apps.evidence.services import evidence_pack_generate
from apps.resilience.models import DrillRun, DrillStep, HealthCheckResult
from apps.resilience.services import drill_run_execute, drill_run_start

from .conftest import document, save

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _finished(definition, *, days_ago: float, status="passed", rto=300.0, rpo=3600.0) -> DrillRun:
    """A finished run ``days_ago`` (written as the runner would leave it: steps and a check result)."""
    start = timezone.now() - datetime.timedelta(days=days_ago)
    run = DrillRun.objects.create(
        organization=definition.organization, definition=definition, definition_digest=definition.digest,
        status=status, trigger="manual", created_at=start, started_at=start,
        finished_at=start + datetime.timedelta(seconds=rto + 60), deadline_at=start + datetime.timedelta(hours=1),
        rto_seconds=rto, rpo_seconds=rpo, rto_objective_seconds=definition.rto_objective_seconds,
        rpo_objective_seconds=definition.rpo_objective_seconds, rto_met=rto <= definition.rto_objective_seconds,
        rpo_met=True, reasons=[] if status == "passed" else ["RTO 2000 s exceeds the objective of 1800 s"],
    )  # fmt: skip
    DrillStep.objects.create(
        organization=run.organization, run=run, sequence=1, kind="resolve", status="ok",
        started_at=start, finished_at=start + datetime.timedelta(seconds=1), detail="resolved",
    )  # fmt: skip
    HealthCheckResult.objects.create(
        organization=run.organization, run=run, check_name="running", check_type="instance_state",
        resource="i-0123", attempt=1, passed=True, checked_at=start, duration_ms=3,
    )  # fmt: skip
    return run


def test_drill_list_shows_last_result_and_trend(world, tenant_a, client):
    definition = save(tenant_a, document())
    _finished(definition, days_ago=14, rto=600)
    last = _finished(definition, days_ago=7, status="failed", rto=2000)
    client.force_login(tenant_a.users["viewer"])
    body = client.get("/drills/").content.decode()
    assert "web-dr" in body
    assert f'href="/drills/runs/{last.pk}/"' in body
    assert "2000 s / 1800 s" in body
    assert "RTO (minutes): measured against the objective" in body and "<svg" in body
    assert "33.33 min" in body and "30.00 min" in body  # the measured RTO and its objective, in the data table


def test_run_detail_timeline_and_isolation(world, tenant_a, tenant_b, client):
    run = drill_run_execute(run=drill_run_start(actor=None, definition=save(tenant_a, document()), trigger="manual"))
    client.force_login(tenant_a.users["viewer"])
    body = client.get(f"/drills/runs/{run.pk}/").content.decode()
    for label in ("Resolve golden version and regional artifact", "Provision the pilot light", "Tear down"):
        assert label in body
    assert body.count("<td>green</td>") == 4  # 2 checks × 2 instances
    client.force_login(tenant_b.users["admin"])
    assert client.get(f"/drills/runs/{run.pk}/").status_code == 404
    assert "web-dr" not in client.get("/drills/").content.decode()


def test_executive_pdf_lists_drills_with_rto_rpo_against_objectives(world, tenant_a):
    definition = save(tenant_a, document())
    _finished(definition, days_ago=2, rto=420, rpo=7200)
    data, _ = pdf_build("executive-pdf", tenant_a.organization, user=tenant_a.users["viewer"], params={})
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert "Disaster-recovery drills" in text
    section = " ".join(text[text.index("Disaster-recovery drills") :].split())  # table cells wrap in the PDF
    assert "ubuntu-2204-base · prod · aws" in section
    assert "passed 420 s / 1800 s 7200 s /" in section and "2592000 s" in section


def _members(pack) -> dict[str, bytes]:
    with pack.file.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_evidence_pack_holds_the_periods_drill_runs_deterministically(world, tenant_a, envs):
    definition = save(tenant_a, document())
    inside = _finished(definition, days_ago=3)
    _finished(definition, days_ago=40)  # before the period
    start = (timezone.now() - datetime.timedelta(days=10)).date()
    first = evidence_pack_generate(actor=None, organization=tenant_a.organization, start=start)
    members = _members(first)
    records = json.loads(members["resilience/drill-runs.json"])
    assert [r["id"] for r in records] == [inside.pk]
    assert (records[0]["status"], records[0]["rto_seconds"], records[0]["environment"]) == ("passed", 300.0, "prod")
    assert [s["kind"] for s in records[0]["steps"]] == ["resolve"] and records[0]["check_attempts"] == 1
    index = json.loads(members["index.json"])
    entry = next(m for m in index["members"] if m["path"] == "resilience/drill-runs.json")
    assert entry["sha256"] == hashlib.sha256(members["resilience/drill-runs.json"]).hexdigest()
    second = evidence_pack_generate(actor=None, organization=tenant_a.organization, start=start)
    assert second.sha256 == first.sha256  # regenerating gives the same bytes
    dev_only = evidence_pack_generate(actor=None, organization=tenant_a.organization, environments=["dev"], start=start)
    assert "resilience/drill-runs.json" not in _members(dev_only)
