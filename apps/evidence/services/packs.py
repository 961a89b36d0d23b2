"""Evidence packs: validate the scope, write the deterministic ZIP to a temporary file, store it, record the row.

Nothing is stored until the ZIP is complete and within ``QLRF_EVIDENCE_MAX_BYTES``; on any error the temporary
directory is removed. A pack whose originals exceed ``ASYNC_THRESHOLD_BYTES`` is built by a django-q2 task
(``EvidencePackJob`` shows its progress); smaller ones inline.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.tenancy.services import audit_record, ensure_permitted, snapshot
from qlrf.errors import field_error

from ..choices import EvidencePackJobStatusChoices as JobStatus
from ..models import EvidencePack, EvidencePackJob
from ..pack.members import estimated_size, pack_members
from ..pack.scope import pack_scope_build
from ..pack.writer import DigestMismatch, SizeExceeded, pack_write
from ._files import file_sha256, scratch_dir, store_complete

ASYNC_THRESHOLD_BYTES = 32 * 1024 * 1024
JOB_TASK = "apps.evidence.tasks.evidence_pack_job_task"


class EvidencePackTooLarge(ValidationError):
    """The pack would exceed QLRF_EVIDENCE_MAX_BYTES; nothing was stored."""

    def __init__(self, limit: int):
        message = (
            f"the evidence pack would exceed QLRF_EVIDENCE_MAX_BYTES ({limit} bytes); "
            "narrow it with environments or a shorter period"
        )
        super().__init__({"scope": ValidationError(message, code="pack_too_large")})


def evidence_pack_generate(
    *, actor, organization, environments=None, start=None, end=None, progress=None
) -> EvidencePack:
    """Build, store and record the evidence pack of a scope (``actor`` None: the installation, i.e. the CLI)."""
    ensure_permitted(actor, scope="reports", action="add", organization=organization)
    scope = pack_scope_build(organization=organization, environments=environments, start=start, end=end)
    limit = settings.QLRF_EVIDENCE_MAX_BYTES
    with scratch_dir() as tmp:
        path = tmp / "pack.zip"
        try:
            index = pack_write(path, scope, pack_members(scope), limit=limit, progress=progress)
        except SizeExceeded:
            raise EvidencePackTooLarge(limit) from None
        except DigestMismatch as exc:
            raise field_error("scope", str(exc), "digest_mismatch") from None
        sha256, size = file_sha256(path)
        name = store_complete(path, f"evidence/{organization.slug}/{sha256}.zip")
    with transaction.atomic():
        ensure_permitted(actor, scope="reports", action="add", organization=organization)
        pack = EvidencePack.objects.create(
            organization=organization,
            filters=scope.filters(),
            as_of=scope.as_of,
            file=name,
            sha256=sha256,
            size=size,
            member_count=index["member_count"],
            empty=index["empty"],
            generated_by=actor if actor is not None and actor.pk else None,
        )
        audit_record(
            organization=organization, actor=actor, action="evidence.pack.generate", obj=pack, after=snapshot(pack)
        )
    return pack


def evidence_pack_request(
    *, actor, organization, environments=None, start=None, end=None
) -> tuple[EvidencePack | None, EvidencePackJob | None]:
    """Generate inline, or queue a job when the originals in scope are large: (pack, None) or (None, job)."""
    ensure_permitted(actor, scope="reports", action="add", organization=organization)
    scope = pack_scope_build(organization=organization, environments=environments, start=start, end=end)
    if estimated_size(scope) <= ASYNC_THRESHOLD_BYTES:
        pack = evidence_pack_generate(
            actor=actor, organization=organization, environments=scope.environments, start=scope.start, end=scope.end
        )
        return pack, None
    from django_q.tasks import async_task

    with transaction.atomic():
        ensure_permitted(actor, scope="reports", action="add", organization=organization)
        job = EvidencePackJob.objects.create(
            organization=organization,
            filters=scope.filters(),
            requested_by=actor if actor is not None and actor.pk else None,
        )
        transaction.on_commit(lambda: async_task(JOB_TASK, job.pk, task_name=f"evidence-pack-{job.pk}"))
    return None, job


def _messages(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        errors = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
        first = next(iter(e for group in errors for e in group), None)
        return (first.code or "invalid") if first else "invalid", "; ".join(exc.messages)
    return "permission_denied", str(exc)


def evidence_pack_job_run(*, job: EvidencePackJob) -> EvidencePackJob:
    """Run a queued job once (idempotent): progress while writing, then the pack or the error."""
    jobs = EvidencePackJob.objects.filter(pk=job.pk)
    if not jobs.filter(status=JobStatus.QUEUED).update(status=JobStatus.RUNNING):
        return jobs.get()
    job = jobs.select_related("organization", "requested_by").get()
    filters = job.filters
    try:
        if job.requested_by is None:
            raise PermissionDenied("the user who requested the pack no longer exists")
        pack = evidence_pack_generate(
            actor=job.requested_by,
            organization=job.organization,
            environments=filters.get("environments"),
            start=filters.get("from"),
            end=filters.get("to"),
            progress=lambda pct: jobs.update(progress_pct=pct),
        )
    except (ValidationError, PermissionDenied) as exc:
        code, message = _messages(exc)
        jobs.update(status=JobStatus.FAILED, error_code=code, error=message[:2000], finished_at=timezone.now())
        return jobs.get()
    jobs.update(status=JobStatus.SUCCEEDED, progress_pct=100, pack=pack, finished_at=timezone.now())
    return jobs.get()
