"""Upload jobs (ADR 019): large documents are stored, answered 202 with a status URL, and parsed outside the request."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.compliance.models import SbomDocument, SbomPackage, Upload, UploadJob
from apps.compliance.services import upload_job_run, upload_job_submit, upload_jobs
from apps.compliance.services import uploads as upload_service
from apps.compliance.services.sweep import upload_originals_sweep
from apps.tenancy.services import token_create
from tests.compliance.conftest import fixture_bytes, ubuntu_version
from tests.compliance.test_api import bearer
from tests.conftest import client_for

_seq = itertools.count(1)


def cyclonedx(count: int, *, duplicate: bool = False) -> bytes:
    components = [{"type": "library", "name": f"p{i}", "version": "1.0"} for i in range(count)]
    if duplicate:
        components.append(dict(components[3]))
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}).encode()


@pytest.fixture
def small_sync_limit(settings):
    settings.QLRF_UPLOAD_SYNC_MAX_BYTES = 2_000
    settings.QLRF_TASK_MODE = "inline"


@pytest.fixture
def ci(tenant_a):
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    return bearer(raw)


@pytest.mark.django_db
def test_a_large_sbom_is_answered_202_and_imported_by_its_job(
    tenant_a, ci, small_sync_limit, django_capture_on_commit_callbacks
):
    version = ubuntu_version(tenant_a)
    data = cyclonedx(500)
    assert len(data) > 2_000
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = ci.post(reverse("image-sbom", args=[version.pk]), data, content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["upload"] is None
    assert response["Location"] == body["url"]
    assert SbomPackage.objects.count() == 0  # nothing parsed in the request
    for callback in queued:
        callback()
    polled = ci.get(response["Location"]).json()
    assert (polled["status"], polled["progress"], polled["error_code"]) == ("succeeded", 100, "")
    sbom = SbomDocument.objects.get(upload_id=polled["upload"])
    assert sbom.package_count == 500 == SbomPackage.objects.filter(sbom=sbom).count()
    assert ci.get(reverse("image-sbom", args=[version.pk])).json()["package_count"] == 500


@pytest.mark.django_db
def test_prefer_respond_async_queues_even_a_small_document(tenant_a, ci, settings):
    settings.QLRF_TASK_MODE = "inline"
    version = ubuntu_version(tenant_a)
    url = reverse("image-sbom", args=[version.pk])
    response = ci.post(url, cyclonedx(2), content_type="application/json", HTTP_PREFER="respond-async, wait=5")
    assert response.status_code == 202
    assert ci.post(url, cyclonedx(3), content_type="application/json").status_code == 201  # without it: parsed now


@pytest.mark.django_db(transaction=True)
def test_a_refused_large_document_fails_its_job_with_the_fault_and_the_rejected_upload(tenant_a, ci, small_sync_limit):
    version = ubuntu_version(tenant_a)
    response = ci.post(
        reverse("image-sbom", args=[version.pk]), cyclonedx(200, duplicate=True), content_type="application/json"
    )
    assert response.status_code == 202
    job = ci.get(response["Location"]).json()
    assert (job["status"], job["error_code"], job["error_path"]) == ("failed", "invalid_document", "/components/200")
    assert job["error_detail"] == "item 200 repeats item 3; the items must be unique"
    rejected = Upload.objects.get(pk=job["upload"])
    assert (rejected.status, rejected.rejection_code) == ("rejected", "invalid_document")
    assert SbomPackage.objects.count() == 0


@pytest.mark.django_db
def test_a_viewer_cannot_queue_a_job_and_nothing_is_stored(tenant_a, small_sync_limit, media_root):
    version = ubuntu_version(tenant_a)
    response = client_for(tenant_a.users["viewer"]).post(
        reverse("image-sbom", args=[version.pk]), cyclonedx(500), content_type="application/json"
    )
    assert response.status_code == 403
    assert UploadJob.objects.count() == 0
    assert not (media_root / "uploads").exists() or not any((media_root / "uploads").rglob("*"))


@pytest.mark.django_db
def test_another_tenants_job_is_not_found(tenant_a, tenant_b):
    job = upload_job_submit(
        actor=tenant_a.users["engineer"], version=ubuntu_version(tenant_a), kind="sbom", data=cyclonedx(3)
    )
    response = client_for(tenant_b.users["admin"]).get(reverse("upload-job-detail", args=[job.pk]))
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_job_killed_while_writing_rolls_back_and_its_retry_imports_once(tenant_a, monkeypatch):
    monkeypatch.setattr(upload_jobs, "task_in_background", lambda *args, **kwargs: None)  # this test runs the job
    version = ubuntu_version(tenant_a)
    job = upload_job_submit(actor=tenant_a.users["engineer"], version=version, kind="sbom", data=cyclonedx(300))
    real_event = upload_service.upload_event

    def killed(*args):  # the last step inside the import's transaction: every row is written, nothing committed
        raise SystemExit("SIGKILL")

    monkeypatch.setattr(upload_service, "upload_event", killed)
    with pytest.raises(SystemExit):
        upload_job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert SbomPackage.objects.count() == 0 and Upload.objects.count() == 0
    assert UploadJob.objects.get(pk=job.pk).file  # the original is still named by its job
    monkeypatch.setattr(upload_service, "upload_event", real_event)
    retried = upload_job_run(job.pk)
    assert (retried.status, retried.attempts) == ("succeeded", 2)
    assert SbomPackage.objects.count() == 300
    assert upload_job_run(job.pk).attempts == 2  # a finished job is not run again
    assert Upload.objects.filter(status="accepted").count() == 1


@pytest.mark.django_db
def test_a_job_whose_requester_was_deactivated_fails_without_importing(tenant_a):
    user = tenant_a.users["engineer"]
    job = upload_job_submit(actor=user, version=ubuntu_version(tenant_a), kind="sbom", data=cyclonedx(3))
    user.is_active = False
    user.save()
    finished = upload_job_run(job.pk)
    assert (finished.status, finished.error_code) == ("failed", "permission_denied")
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_the_sweep_keeps_the_original_of_a_queued_job(tenant_a, media_root):
    job = upload_job_submit(
        actor=tenant_a.users["engineer"], version=ubuntu_version(tenant_a), kind="sbom", data=cyclonedx(3)
    )
    assert upload_originals_sweep(grace=timedelta(0), now=timezone.now() + timedelta(days=1)) == []
    assert (media_root / job.file.name).exists()


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_job_runs_in_a_thread_after_the_request(tenant_a, settings):
    settings.QLRF_TASK_MODE = "auto"  # no django-q2 cluster runs here: a thread of this process takes the job
    settings.QLRF_UPLOAD_SYNC_MAX_BYTES = 2_000
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    version = ubuntu_version(tenant_a)
    response = bearer(raw).post(
        reverse("image-sbom", args=[version.pk]), fixture_bytes("sbom/cyclonedx/syft-scan-alpine-container.cdx.json"),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 202
    deadline = time.monotonic() + 30
    while UploadJob.objects.get(pk=response.json()["id"]).status in ("queued", "running"):
        assert time.monotonic() < deadline, "the background job did not finish"
        time.sleep(0.05)
    job = UploadJob.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", (job.error_code, job.error_detail)
    assert job.upload.sbom.package_count == 16


@pytest.mark.django_db(transaction=True)
def test_jobs_a_lost_worker_left_behind_are_run_again_once_stale(tenant_a, monkeypatch):
    monkeypatch.setattr(upload_jobs, "task_in_background", lambda *args, **kwargs: None)  # the runner is lost
    version = ubuntu_version(tenant_a)
    queued = upload_job_submit(actor=tenant_a.users["engineer"], version=version, kind="sbom", data=cyclonedx(3))
    running = upload_job_submit(actor=tenant_a.users["engineer"], version=version, kind="sbom", data=cyclonedx(4))
    UploadJob.objects.filter(pk=running.pk).update(status="running", started_at=timezone.now(), attempts=1)
    assert upload_jobs.upload_jobs_resume() == []  # fresh: maybe still running somewhere
    later = timezone.now() + timedelta(minutes=31)
    assert upload_jobs.upload_jobs_resume(now=later) == [queued.pk, running.pk]
    assert set(UploadJob.objects.values_list("status", flat=True)) == {"succeeded"}
    assert SbomPackage.objects.count() == 7
    assert upload_jobs.upload_jobs_resume(now=later) == []  # finished jobs are left alone
