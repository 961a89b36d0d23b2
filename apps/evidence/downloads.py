"""HTTP answers shared by the portal and the API: a streamed CSV export, a stored evidence pack."""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse

from .models import EvidencePack
from .reports.csv_exports import export_lines


def csv_response(export) -> StreamingHttpResponse:
    """Stream an export: the rows are read from the database as the response is sent."""
    response = StreamingHttpResponse(export_lines(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    for name, value in (export.provenance or {}).items():  # which snapshot answered an as_of (ADR 010)
        header = "X-Drift-" + "-".join(part.capitalize() for part in name.split("_"))
        response[header] = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return response


def pack_download(pack: EvidencePack) -> FileResponse:
    """The stored ZIP as an attachment, with its SHA-256 in a ``Digest`` header."""
    response = FileResponse(pack.file.open("rb"), content_type="application/zip", as_attachment=True)
    response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    response["Digest"] = f"sha-256={pack.sha256}"
    return response
