"""django-q2 entry points of the evidence app: take primitive ids, load, call one service."""

from __future__ import annotations

from qlrf.taskqueue import retry_on_lock

from .models import EvidencePackJob, ReportSchedule
from .services import evidence_pack_job_run, report_deliver, report_generate


@retry_on_lock
def report_scheduled_task(schedule_id: int) -> str:
    """Generate a scheduled report and mail it to the schedule's recipients (skipped when disabled or gone)."""
    schedule = ReportSchedule.objects.select_related("organization").filter(pk=schedule_id, enabled=True).first()
    if schedule is None:
        return "disabled"
    report = report_generate(
        actor=None,
        organization=schedule.organization,
        kind=schedule.kind,
        filters=schedule.filters,
        schedule_name=schedule.name,
    )
    sent = report_deliver(report=report, recipients=schedule.recipients)
    return f"report {report.pk} sent to {len(schedule.recipients) if sent else 0} recipient(s)"


@retry_on_lock
def evidence_pack_job_task(job_id: int) -> str:
    """Build the pack of a queued job (idempotent: a job no longer queued is left alone)."""
    job = EvidencePackJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return evidence_pack_job_run(job=job).status
