"""Evidence API: isolation suites of the router endpoints, CSV exports, pack creation (inline and as a job)."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.urls import reverse

from apps.evidence.models import EvidencePack, EvidencePackJob
from apps.evidence.services import evidence_pack_generate
from apps.evidence.services import packs as pack_services
from tests.api_base import TenantAPITests
from tests.conftest import client_for


class TestEvidencePackAPI(TenantAPITests):
    basename = "evidence-pack"
    model = EvidencePack
    deletable = False

    def make(self, tenant):
        return evidence_pack_generate(actor=None, organization=tenant.organization)

    def create_payload(self, tenant):
        return {"organization": tenant.organization.slug}


class TestEvidencePackJobAPI(TenantAPITests):
    basename = "evidence-pack-job"
    model = EvidencePackJob
    writable = False
    deletable = False

    def make(self, tenant):
        return EvidencePackJob.objects.create(organization=tenant.organization, filters={"environments": []})


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.django_db
def test_viewer_drift_csv_matches_the_drift_api(tenant_a, world):
    client = client_for(tenant_a.users["viewer"])
    drift = client.get(reverse("drift-report")).json()
    response = client.get(reverse("report-csv", args=["drift"]), {"by": "environment"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="drift-alpha.csv"'
    rows = _csv(response)
    expected = [*drift["by_environment"], drift["total"]]
    keys = ["total_assets", "compliant_assets", "outdated_count", "unmanaged_count", "coverage_pct", "rag"]
    assert [[row[k] for k in ["environment", *keys]] for row in rows] == [
        [r["environment"] or "", *(("" if r[k] is None else str(r[k])) for k in keys)] for r in expected
    ]
    assert [(r["environment"], r["coverage_pct"], r["rag"]) for r in rows] == [
        ("dev", "100.0", "green"),
        ("prod", "0.0", "red"),
        ("", "40.0", "red"),
    ]
    same = client.get(reverse("report-csv-format", args=["drift"]), {"by": "environment", "format": "csv"})
    live = [{k: v for k, v in row.items() if k != "calculated_at"} for row in _csv(same)]  # a later live evaluation
    assert live == [{k: v for k, v in row.items() if k != "calculated_at"} for row in rows]


@pytest.mark.django_db
def test_csv_exports_honour_filters(tenant_a, world):
    client = client_for(tenant_a.users["viewer"])
    outdated = _csv(client.get(reverse("report-csv", args=["outdated"]), {"env": "prod"}))
    assert len(outdated) == 6 and {(r["version"], r["baseline"], r["reason"]) for r in outdated} == {
        ("ubuntu-2204-base@1.0.0", "ubuntu-2204-base@1.1.0", "behind")
    }
    assets = _csv(client.get(reverse("report-csv", args=["assets"]), {"environment": "dev"}))
    assert len(assets) == 4 and {r["image_version"] for r in assets} == {"ubuntu-2204-base@1.1.0"}
    versions = _csv(client.get(reverse("report-csv", args=["image-versions"]), {"status": "published"}))
    assert [(r["version"], r["sbom_status"], r["signed_status"]) for r in versions] == [
        ("1.2.0", "pass", "fail"),
        ("1.1.0", "pass", "fail"),
        ("1.0.0", "pass", "fail"),
    ]
    signatures = _csv(client.get(reverse("report-csv", args=["signatures"]), {"result": "failed"}))
    assert [r["image"] for r in signatures] == ["ubuntu-2204-base@1.2.0", "ubuntu-2204-base@1.0.0"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "params", "status", "path"),
    [
        ("drift", {"env": "nowhere"}, 400, "/query/env"),
        ("drift", {"by": "colour"}, 400, "/query/by"),
        ("outdated", {"as_of": "soon"}, 400, "/query/as_of"),
        ("signatures", {"result": "maybe"}, 400, "/query/result"),
        ("assets", {"organization": "bravo"}, 404, "/query/organization"),
    ],
)
def test_csv_bad_parameters_are_json_errors(tenant_a, tenant_b, kind, params, status, path):
    response = client_for(tenant_a.users["viewer"]).get(reverse("report-csv", args=[kind]), params)
    assert response.status_code == status
    assert response.json()["errors"][0]["path"] == path


@pytest.mark.django_db
def test_csv_needs_a_login_and_shows_only_the_callers_tenant(api_client, tenant_a, tenant_b, world):
    assert api_client.get(reverse("report-csv", args=["assets"])).status_code == 401
    rows = _csv(client_for(tenant_b.users["admin"]).get(reverse("report-csv", args=["assets"])))
    assert rows == []


@pytest.mark.django_db
def test_post_builds_a_pack_inline_then_download(tenant_a, world):
    client = client_for(tenant_a.users["operator"])
    response = client.post(reverse("evidence-pack-list"), {"environments": ["prod"], "to": None}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["filters"]["environments"], body["member_count"], body["empty"]) == (["prod"], 12, False)
    download = client_for(tenant_a.users["viewer"]).get(reverse("evidence-pack-download", args=[body["id"]]))
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == body["sha256"] == download["Digest"].removeprefix("sha-256=")
    assert download["Content-Type"] == "application/zip"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "path", "code"),
    [
        ({"from": "2024-02-01", "to": "2024-01-01"}, "/from", "invalid_range"),
        ({"environments": ["nowhere"]}, "/environments", "unknown_environment"),
        ({"from": "not-a-date"}, "/from", "invalid"),
    ],
)
def test_post_bad_scope_is_400_and_writes_nothing(tenant_a, envs, payload, path, code):
    response = client_for(tenant_a.users["operator"]).post(reverse("evidence-pack-list"), payload, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["errors"][0]["path"]) == (code, path)
    assert EvidencePack.objects.count() == 0 and EvidencePackJob.objects.count() == 0


@pytest.mark.django_db
def test_a_large_pack_runs_as_a_task_with_progress(tenant_a, world, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(pack_services, "ASYNC_THRESHOLD_BYTES", 100)
    client = client_for(tenant_a.users["operator"])
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued on commit (run inline: sync)
        response = client.post(reverse("evidence-pack-list"), {}, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    job = client.get(reverse("evidence-pack-job-detail", args=[job_id])).json()
    pack = EvidencePack.objects.get()
    assert (job["status"], job["progress_pct"], job["pack"], job["error"]) == ("succeeded", 100, pack.pk, "")
    assert pack.generated_by == tenant_a.users["operator"]
