"""Portal views of reports: the /reports/ page, CSV and PDF downloads, stored reports and evidence packs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from apps.drift.selectors import DriftQueryError
from apps.tenancy.models import Environment
from apps.tenancy.selectors import current_organization
from apps.tenancy.services import has_permission

from .choices import ReportKindChoices
from .downloads import csv_response, pack_download
from .reports.csv_exports import EXPORTS, export_build
from .reports.render import pdf_build
from .selectors import evidence_pack_job_list, evidence_pack_list, report_list, report_schedule_list
from .services import evidence_pack_request, report_generate

PDF_REPORTS = {"executive": ReportKindChoices.EXECUTIVE_PDF, "drift": ReportKindChoices.DRIFT_PDF}


def _organization(request):
    organization = current_organization(request)
    if organization is None:
        raise Http404("no organisation")
    return organization


def _refused(exc: Exception) -> str:
    if isinstance(exc, DriftQueryError):
        return f"{exc.parameter}: {exc.message}"
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or "not permitted"


class ReportIndexView(LoginRequiredMixin, TemplateView):
    """Downloads (CSV, PDF), stored reports, schedules and evidence packs of the current organisation."""

    template_name = "evidence/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, organization = self.request.user, _organization(self.request)
        query = self.request.GET.copy()
        query.pop("org", None)
        context.update(
            organization=organization,
            query=query.urlencode(),
            csv_kinds=sorted(EXPORTS),
            pdf_kinds=sorted(PDF_REPORTS),
            report_kinds=ReportKindChoices.choices,
            environments=Environment.objects.restrict(user, "view").filter(organization=organization),
            reports=report_list(user).filter(organization=organization)[:50],
            schedules=report_schedule_list(user).filter(organization=organization),
            packs=evidence_pack_list(user).filter(organization=organization)[:50],
            jobs=evidence_pack_job_list(user).filter(organization=organization)[:10],
            can_generate=has_permission(user, "generate_report", organization),
        )
        return context


class CsvDownloadView(LoginRequiredMixin, View):
    """``/reports/<kind>.csv`` with the portal lists' query parameters; streamed."""

    def get(self, request, kind: str):
        if kind not in EXPORTS:
            raise Http404("no such report")
        try:
            export = export_build(kind, _organization(request), user=request.user, params=request.GET)
        except DriftQueryError as exc:
            return HttpResponse(_refused(exc), status=exc.status, content_type="text/plain; charset=utf-8")
        return csv_response(export)


class PdfDownloadView(LoginRequiredMixin, View):
    """``/reports/executive.pdf`` and ``/reports/drift.pdf``, rendered on request (Viewer may download)."""

    def get(self, request, name: str):
        if name not in PDF_REPORTS:
            raise Http404("no such report")
        try:
            data, filename = pdf_build(PDF_REPORTS[name], _organization(request), user=request.user, params=request.GET)
        except DriftQueryError as exc:
            return HttpResponse(_refused(exc), status=exc.status, content_type="text/plain; charset=utf-8")
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ReportGenerateView(LoginRequiredMixin, View):
    """POST: render and keep a report (Operator and above)."""

    def post(self, request):
        organization = _organization(request)
        kind = request.POST.get("kind", "")
        filters = {k: v for k in ("env", "platform", "site", "as_of") if (v := request.POST.get(k, "").strip())}
        try:
            report = report_generate(actor=request.user, organization=organization, kind=kind, filters=filters)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, f"Report not generated: {_refused(exc)}")
        else:
            messages.success(request, f"Report {report.filename} generated (SHA-256 {report.sha256[:12]}…).")
        return redirect("evidence:index")


class ReportFileView(LoginRequiredMixin, View):
    """A stored report file, for anyone who may view the organisation's reports."""

    def get(self, request, pk: int):
        report = report_list(request.user).filter(pk=pk).first()
        if report is None:
            raise Http404("no such report")
        response = FileResponse(report.file.open("rb"), content_type=report.media_type, as_attachment=True)
        response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
        response["Digest"] = f"sha-256={report.sha256}"
        return response


class EvidencePackCreateView(LoginRequiredMixin, View):
    """POST: build an evidence pack for the chosen environments and period (Operator and above)."""

    def post(self, request):
        organization = _organization(request)
        try:
            pack, job = evidence_pack_request(
                actor=request.user,
                organization=organization,
                environments=request.POST.getlist("environments"),
                start=request.POST.get("from") or None,
                end=request.POST.get("to") or None,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, f"Evidence pack not generated: {_refused(exc)}")
        else:
            if job is not None:
                messages.success(request, f"Evidence pack queued (job {job.pk}); it appears here when ready.")
            else:
                messages.success(request, f"Evidence pack generated: {pack.member_count} files, SHA-256 {pack.sha256}.")
        return redirect("evidence:index")


class EvidencePackFileView(LoginRequiredMixin, View):
    """An evidence pack's ZIP, for anyone who may view the organisation's reports."""

    def get(self, request, pk: int):
        pack = evidence_pack_list(request.user).filter(pk=pk).first()
        if pack is None:
            raise Http404("no such evidence pack")
        return pack_download(pack)
