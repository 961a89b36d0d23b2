"""Render any report kind to a file: CSV streamed line by line, PDF from its template (used by services and views)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from ..choices import ReportKindChoices as K
from .contexts import drift_detail_context, executive_context
from .csv_exports import export_build, export_lines
from .pdf import render_pdf

CSV_KINDS = {
    K.DRIFT_CSV: "drift",
    K.OUTDATED_CSV: "outdated",
    K.ASSETS_CSV: "assets",
    K.IMAGE_VERSIONS_CSV: "image-versions",
    K.SIGNATURES_CSV: "signatures",
}
PDF_KINDS = {
    K.EXECUTIVE_PDF: ("reports/executive.html", executive_context, "executive"),
    K.DRIFT_PDF: ("reports/drift.html", drift_detail_context, "drift"),
}


@dataclass(frozen=True)
class Rendered:
    filename: str
    media_type: str


def pdf_build(kind: str, organization, *, user, params) -> tuple[bytes, str]:
    """(PDF bytes, file name) of a PDF report kind."""
    template, build_context, stem = PDF_KINDS[kind]
    context, at = build_context(organization, user=user, params=params)
    return render_pdf(template, context, as_of=at), f"{stem}-{organization.slug}-{at:%Y%m%d}.pdf"


def report_render(kind: str, organization, *, user, params, out) -> Rendered:
    """Write the report of ``kind`` into the binary file ``out``; DriftQueryError on a bad parameter."""
    if kind in CSV_KINDS:
        export = export_build(CSV_KINDS[kind], organization, user=user, params=params)
        for line in export_lines(export):
            out.write(line)
        stem = export.filename.removesuffix(".csv")
        return Rendered(f"{stem}-{timezone.now():%Y%m%d}.csv", "text/csv")
    if kind in PDF_KINDS:
        data, filename = pdf_build(kind, organization, user=user, params=params)
        out.write(data)
        return Rendered(filename, "application/pdf")
    raise ValueError(f"unknown report kind {kind!r}")
