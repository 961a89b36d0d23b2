"""django-q2 entry points of the compliance app."""

from __future__ import annotations

from apps.inventory.models import ScanRun
from apps.tenancy.models import Organization
from qlrf.taskqueue import retry_on_lock

from .services.recheck import signature_recheck


@retry_on_lock
def signature_recheck_after_scan_task(organization_id: int, scan_run_id: int | None = None) -> int:
    """After a scan: how many running machines run an image without a valid signature (recorded in the audit)."""
    organization = Organization.objects.get(pk=organization_id)
    run = ScanRun.objects.filter(pk=scan_run_id).first() if scan_run_id else None
    return sum(signature_recheck(organization=organization, scan_run=run).values())


@retry_on_lock
def upload_originals_sweep_task() -> int:
    """Delete stored originals no row names, past the grace period (ADR 016); how many were deleted."""
    from .services.sweep import upload_originals_sweep

    return len(upload_originals_sweep())


@retry_on_lock
def upload_job_run_task(job_id: int) -> str | None:
    """Parse and import the document of one upload job (ADR 019); its final status."""
    from .services.upload_jobs import upload_job_run

    job = upload_job_run(job_id)
    return job.status if job is not None else None


@retry_on_lock
def upload_jobs_resume_task() -> int:
    """Run again upload jobs a lost worker left unfinished (ADR 019); how many."""
    from .services.upload_jobs import upload_jobs_resume

    return len(upload_jobs_resume())
