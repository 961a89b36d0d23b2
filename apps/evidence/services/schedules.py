"""Report schedules and their django-q2 Schedule, upserted by name (never ``schedule()`` at import time)."""

from __future__ import annotations

from croniter import croniter
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_q.models import Schedule

from apps.tenancy.services import audit_record, ensure_permitted, snapshot
from qlrf.errors import field_error
from qlrf.schedules import schedule_put

from ..choices import ReportKindChoices
from ..models import ReportSchedule

REPORT_TASK = "apps.evidence.tasks.report_scheduled_task"
FIELDS = ("name", "kind", "filters", "cron", "recipients", "enabled")


def _validate(schedule: ReportSchedule) -> None:
    if schedule.kind not in ReportKindChoices.values:
        raise field_error("kind", f"unknown report kind {schedule.kind!r}", "invalid_choice")
    if not croniter.is_valid(schedule.cron or ""):
        raise field_error("cron", f"{schedule.cron!r} is not a cron expression (e.g. '0 6 * * 1')", "invalid_cron")
    if not isinstance(schedule.recipients, list) or not schedule.recipients:
        raise field_error("recipients", "give at least one e-mail address", "required")
    for index, address in enumerate(schedule.recipients):
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            raise field_error(f"recipients/{index}", f"{address!r} is not an e-mail address", "invalid_email") from None
    filters = schedule.filters
    if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
        raise field_error("filters", "filters must be an object of parameter names to string values", "invalid")
    schedule.full_clean()


def report_schedule_sync(schedule: ReportSchedule) -> None:
    """Create, update or delete the django-q2 Schedule so it matches ``enabled`` and ``cron``."""
    schedule_put(schedule.schedule_name, REPORT_TASK, enabled=schedule.enabled, args=(schedule.pk,), cron=schedule.cron)


@transaction.atomic
def report_schedule_create(
    *, actor, organization, name: str, kind: str, cron: str, recipients: list[str], filters=None, enabled=True
) -> ReportSchedule:
    """A new report schedule (``generate_report`` permission) and its django-q2 Schedule."""
    ensure_permitted(actor, scope="reports", action="add", organization=organization)
    schedule = ReportSchedule(
        organization=organization,
        name=name,
        kind=kind,
        cron=cron,
        recipients=list(recipients or []),
        filters=dict(filters or {}),
        enabled=enabled,
        created_by=actor if actor is not None and actor.pk else None,
    )
    _validate(schedule)
    schedule.save()
    report_schedule_sync(schedule)
    audit_record(
        organization=organization,
        actor=actor,
        action="evidence.reportschedule.create",
        obj=schedule,
        after=snapshot(schedule),
    )
    return schedule


@transaction.atomic
def report_schedule_update(*, actor, schedule: ReportSchedule, **changes) -> ReportSchedule:
    """Change a schedule's name, kind, filters, cron, recipients or enabled flag, and re-sync its Schedule."""
    schedule = ReportSchedule.objects.select_for_update().get(pk=schedule.pk)
    ensure_permitted(actor, scope="reports", action="add", organization=schedule.organization)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "this field cannot be changed", "read_only")
    before = snapshot(schedule)
    for field, value in changes.items():
        setattr(schedule, field, value)
    _validate(schedule)
    schedule.save()
    report_schedule_sync(schedule)
    audit_record(
        organization=schedule.organization,
        actor=actor,
        action="evidence.reportschedule.update",
        obj=schedule,
        before=before,
        after=snapshot(schedule),
    )
    return schedule


@transaction.atomic
def report_schedule_delete(*, actor, schedule: ReportSchedule) -> None:
    """Remove a schedule and its django-q2 Schedule; the reports it made stay."""
    ensure_permitted(actor, scope="reports", action="add", organization=schedule.organization)
    audit_record(
        organization=schedule.organization,
        actor=actor,
        action="evidence.reportschedule.delete",
        obj=schedule,
        before=snapshot(schedule),
    )
    Schedule.objects.filter(name=schedule.schedule_name).delete()
    schedule.delete()
