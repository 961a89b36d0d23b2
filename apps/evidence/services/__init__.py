"""Writes of the evidence app: stored reports and their delivery, schedules, evidence packs (each one transaction)."""

from .packs import EvidencePackTooLarge, evidence_pack_generate, evidence_pack_job_run, evidence_pack_request
from .reports import report_deliver, report_generate
from .schedules import report_schedule_create, report_schedule_delete, report_schedule_update

__all__ = [
    "EvidencePackTooLarge",
    "evidence_pack_generate",
    "evidence_pack_job_run",
    "evidence_pack_request",
    "report_deliver",
    "report_generate",
    "report_schedule_create",
    "report_schedule_delete",
    "report_schedule_update",
]
