"""Large uploads parsed outside the request (ADR 019): store the original, queue a job, answer 202 with its URL.

A document over ``QLRF_UPLOAD_SYNC_MAX_BYTES`` (or any document sent with ``Prefer: respond-async``) is not parsed
in the request that carries it: its bytes are stored content-addressed first, then an ``UploadJob`` row commits and a
task (django-q2, or a thread of this process on the embedded default) runs ``upload_store_and_parse`` on them. The
job ends ``succeeded`` with the accepted upload, or ``failed`` with the refusal in the document's terms (and the
rejected upload the service recorded). Running the same job again is harmless: the service treats the same accepted
bytes as a no-op, and a finished job is not run again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.services import audit_record, ensure_permitted, ensure_permitted_on, snapshot
from qlrf.errors import DocumentRejected
from qlrf.taskqueue import task_in_background

from ..choices import UploadJobStatusChoices, UploadStatusChoices
from ..models import Upload, UploadJob
from .uploads import discard_unreferenced, recorded_kind, store_original, upload_store_and_parse

logger = logging.getLogger(__name__)
TASK = "apps.compliance.tasks.upload_job_run_task"


def upload_job_submit(
    *, actor, version, kind: str, data: bytes, filename: str = "", media_type: str = "", size: int | None = None
) -> UploadJob:
    """Store ``data`` and queue its parse; the job is committed before the task can see it."""
    organization = version.organization
    ensure_permitted(actor, scope="uploads", action="add", organization=organization)
    ensure_permitted_on(actor, version, "add", scope="uploads")
    name, digest = store_original(organization=organization, data=data)
    try:
        with transaction.atomic():
            job = UploadJob.objects.create(
                organization=organization,
                version=version,
                kind=kind,
                file=name,
                sha256=digest,
                size=len(data) if size is None else size,
                filename=filename[:255],
                media_type=media_type[:100],
                requested_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(
                organization=organization, actor=actor, action="compliance.upload_job.submit", obj=job,
                after=snapshot(job),
            )  # fmt: skip
            task_in_background(TASK, job.pk, task_name=f"upload-job-{job.pk}")
    except BaseException:
        discard_unreferenced(name)  # no file without its row (ADR 016)
        raise
    return job


def upload_job_run(job_id: int) -> UploadJob | None:
    """Run one job to its end (idempotent: a finished job is returned as it is; a missing one is None)."""
    job = _claim(job_id)
    if job is None or job.finished:
        return job
    actor = job.requested_by
    try:
        if actor is None or not actor.is_active:
            raise PermissionDenied("the user who sent this document no longer exists or is inactive")
        with job.file.open("rb") as original:
            data = original.read()
        _stage(job, "parsing", 10)
        upload, _ = upload_store_and_parse(
            actor=actor, version=job.version, kind=job.kind, data=data, filename=job.filename,
            media_type=job.media_type, size=job.size, progress=lambda stage, percent: _stage(job, stage, percent),
        )  # fmt: skip
    except DocumentRejected as refusal:
        error = refusal.errors[0] if refusal.errors else {}
        rejected = (
            Upload.objects.filter(
                version=job.version, kind=recorded_kind(job.kind), sha256=job.sha256,
                status=UploadStatusChoices.REJECTED,
            ).order_by("-uploaded_at", "-id").first()
        )  # fmt: skip
        return _finish(job, failed=True, upload=rejected, code=refusal.code, detail=refusal.detail,
                       path=error.get("path", ""))  # fmt: skip
    except PermissionDenied as denied:
        return _finish(job, failed=True, code="permission_denied", detail=str(denied))
    except FileNotFoundError:
        return _finish(job, failed=True, code="original_missing", detail="the stored original is gone from storage")
    except Exception:
        logger.exception("upload job %s failed", job.pk)
        return _finish(job, failed=True, code="internal_error", detail="the document could not be processed")
    return _finish(job, failed=False, upload=upload)


def upload_jobs_resume(*, now=None, stale_after: timedelta | None = None) -> list[int]:
    """Run again the jobs a lost worker left behind; their ids.

    A job still ``queued`` or ``running`` longer than ``QLRF_UPLOAD_JOB_STALE_MINUTES`` lost its runner: a web process
    that ran it in a thread was recycled, or a task was dropped. Its original is in storage and running a job again is
    idempotent, so it is simply run (here, in the worker that runs this every ten minutes).
    """
    if stale_after is None:
        stale_after = timedelta(minutes=settings.QLRF_UPLOAD_JOB_STALE_MINUTES)
    cutoff = (now or timezone.now()) - stale_after
    stale = UploadJob.objects.filter(
        Q(status=UploadJobStatusChoices.QUEUED, created_at__lt=cutoff)
        | Q(status=UploadJobStatusChoices.RUNNING, started_at__lt=cutoff)
    ).order_by("created_at", "id")
    resumed = []
    for job_id in stale.values_list("pk", flat=True)[:100]:
        logger.warning("upload job %s was left unfinished; running it again", job_id)
        upload_job_run(job_id)
        resumed.append(job_id)
    return resumed


def _claim(job_id: int) -> UploadJob | None:
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().select_related("version__organization").filter(pk=job_id).first()
        if job is None or job.finished:
            return job
        job.status = UploadJobStatusChoices.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.stage, job.progress = "reading", 0
        job.save(update_fields=["status", "started_at", "attempts", "stage", "progress"])
    return job


def _stage(job: UploadJob, stage: str, percent: int) -> None:
    job.stage, job.progress = stage, percent
    UploadJob.objects.filter(pk=job.pk).update(stage=stage, progress=percent)


def _finish(job: UploadJob, *, failed: bool, upload=None, code: str = "", detail: str = "", path: str = ""):
    job.status = UploadJobStatusChoices.FAILED if failed else UploadJobStatusChoices.SUCCEEDED
    job.upload = upload
    job.error_code, job.error_detail, job.error_path = code, detail[:2000], (path or "")[:500]
    job.finished_at = timezone.now()
    job.stage, job.progress = "", 100
    job.save(update_fields=[
        "status", "upload", "error_code", "error_detail", "error_path", "finished_at", "stage", "progress",
    ])  # fmt: skip
    return job
