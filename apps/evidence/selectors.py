"""Reads of the evidence app: the one door for reports (``user`` None is the installation: CLI, schedules)."""

from __future__ import annotations

from apps.tenancy.models import Organization

from .models import EvidencePack, EvidencePackJob, Report, ReportSchedule


def visible(queryset, user):
    """``queryset`` through ``restrict(user, "view")``; unrestricted for the installation itself (``user`` None)."""
    return queryset if user is None else queryset.restrict(user, "view")


def organization_for(user, slug: str | None) -> Organization | None:
    """A visible organisation by slug, or the caller's only one when no slug is given; None when ambiguous/unknown."""
    organizations = visible(Organization.objects.all(), user)
    if slug:
        return organizations.filter(slug=slug).first()
    found = list(organizations.order_by("pk")[:2])
    return found[0] if len(found) == 1 else None


def report_list(user):
    return Report.objects.restrict(user, "view").select_related("organization", "generated_by")


def report_schedule_list(user):
    return ReportSchedule.objects.restrict(user, "view").select_related("organization")


def evidence_pack_list(user):
    return EvidencePack.objects.restrict(user, "view").select_related("organization", "generated_by")


def evidence_pack_job_list(user):
    return EvidencePackJob.objects.restrict(user, "view").select_related("organization", "pack")
