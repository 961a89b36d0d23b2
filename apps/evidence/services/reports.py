"""Stored reports: render into a temporary file, store content-addressed, record a Report row; deliver by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction

from apps.drift.selectors import DriftQueryError
from apps.tenancy.services import audit_record, ensure_permitted, snapshot
from qlrf.errors import field_error

from ..choices import ReportKindChoices
from ..models import Report
from ..reports.render import report_render
from ._files import file_sha256, scratch_dir, store_complete

EXTENSIONS = {"text/csv": "csv", "application/pdf": "pdf"}


def _params(filters) -> dict:
    if not isinstance(filters, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in filters.items()):
        raise field_error("filters", "filters must be an object of parameter names to string values", "invalid")
    return dict(filters)


def report_generate(*, actor, organization, kind: str, filters: dict | None = None, schedule_name: str = "") -> Report:
    """Render a report of ``kind`` with ``filters`` (the portal's query parameters) and keep it as a Report."""
    ensure_permitted(actor, scope="reports", action="add", organization=organization)
    if kind not in ReportKindChoices.values:
        raise field_error("kind", f"unknown report kind {kind!r}", "invalid_choice")
    params = _params(filters or {})
    user = actor if actor is not None and actor.pk else None
    with scratch_dir() as tmp:
        path = tmp / "report"
        try:
            with open(path, "wb") as out:
                rendered = report_render(kind, organization, user=user, params=params, out=out)
        except DriftQueryError as exc:
            raise field_error(f"filters/{exc.parameter}", exc.message, "invalid_parameter") from None
        sha256, size = file_sha256(path)
        name = store_complete(path, f"reports/{organization.slug}/{sha256}.{EXTENSIONS[rendered.media_type]}")
    with transaction.atomic():
        ensure_permitted(actor, scope="reports", action="add", organization=organization)
        report = Report.objects.create(
            organization=organization,
            kind=kind,
            filters=params,
            file=name,
            filename=rendered.filename,
            media_type=rendered.media_type,
            sha256=sha256,
            size=size,
            schedule_name=schedule_name,
            generated_by=user,
        )
        after = snapshot(report)
        audit_record(organization=organization, actor=actor, action="evidence.report.generate", obj=report, after=after)
    return report


def report_deliver(*, report: Report, recipients: list[str]) -> int:
    """Mail the report file as an attachment to ``recipients`` through Django's mail framework; returns mails sent."""
    if not recipients:
        return 0
    with default_storage.open(report.file.name, "rb") as fh:
        data = fh.read()
    message = EmailMessage(
        subject=f"[Resilience Fabric] {report.get_kind_display()} — {report.organization.name}",
        body=(
            f"The {report.get_kind_display()} of {report.organization.name}, generated "
            f"{report.generated_at:%Y-%m-%d %H:%M} UTC, is attached.\nSHA-256: {report.sha256}\n"
        ),
        from_email=settings.QLRF_REPORT_FROM_EMAIL,
        to=list(recipients),
    )
    message.attach(report.filename, data, report.media_type)
    return message.send(fail_silently=False)
