"""Uploads: store the original bytes with their SHA-256 first, then parse, then persist the parsed rows at once.

Ordering (DESIGN.md invariant 4, "nothing is lost"): the bytes go to storage before anything is parsed. A refused
document is recorded as a rejected ``Upload`` in its own committed transaction *before* ``DocumentRejected`` is
raised, and nothing else is written for it. An accepted document is written in one transaction (upload row, parsed
rows, audit event), so a failure half-way leaves no partial packages. Callers must not wrap this service in an outer
transaction they roll back on ``DocumentRejected`` (the upload views are ``non_atomic_requests`` for that reason).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from apps.compliance.parsers import DocumentError, ParsedInspec, ParsedSarif, ParsedSbom, detect_and_parse
from apps.compliance.parsers.findings import MAX_FINDINGS
from apps.events.services import emit
from apps.tenancy.services import audit_record, ensure_permitted, ensure_permitted_on, snapshot
from qlrf.errors import DocumentRejected

from ..choices import ScanSummaryKindChoices, UploadKindChoices, UploadStatusChoices
from ..models import ProvenanceDocument, SbomDocument, SbomPackage, ScanSummary, Upload
from .provenance import ProvenanceClaim, provenance_parse
from .scan_counts import inspec_counts, sarif_counts

SCAN = "scan"  # pseudo kind of the scans endpoint: a SARIF log or an InSpec report, detected from the content
PACKAGE_BATCH = 1000
SBOM_MEDIA_TYPES = {
    ("spdx", "json"): "application/spdx+json",
    ("spdx", "json-ld"): "application/spdx+json",
    ("spdx", "tag-value"): "text/spdx",
    ("cyclonedx", "json"): "application/vnd.cyclonedx+json",
    ("cyclonedx", "xml"): "application/vnd.cyclonedx+xml",
}
KIND_MEDIA_TYPES = {
    "sarif": "application/sarif+json",
    "inspec": "application/json",
    "provenance": "application/vnd.in-toto+json",
}
PACKAGE_LIMITS = {"name": 500, "version": 200, "purl": 1000, "type": 64, "supplier": 500}


def upload_store_and_parse(
    *,
    actor,
    version,
    kind: str,
    data: bytes,
    filename: str = "",
    media_type: str = "",
    size: int | None = None,
    progress=None,
) -> tuple[Upload, bool]:
    """Store, parse and persist one document for ``version``; returns (upload, created). Refusals are recorded.

    ``kind`` is sbom, sarif, inspec, provenance, or ``scan`` (SARIF or InSpec, detected). ``size`` is the real size
    when ``data`` was cut short at the limit by the caller. The same accepted bytes again are a no-op (CI re-runs).
    ``progress(stage, percent)``, when given, hears when the parse is done and the rows are being written (upload jobs).
    """
    organization = version.organization
    ensure_permitted(actor, scope="uploads", action="add", organization=organization)
    if kind not in (SCAN, "sbom", "sarif", "inspec", "provenance"):
        raise ValueError(f"unknown upload kind {kind!r}")
    meta = {"filename": filename[:255], "media_type": media_type[:100], "size": len(data) if size is None else size}
    limit = settings.QLRF_UPLOAD_MAX_BYTES
    if meta["size"] > limit or len(data) > limit:
        error = DocumentError("too_large", f"document is {meta['size']} bytes; the limit is {limit}", "")
        _record_rejection(actor=actor, version=version, kind=recorded_kind(kind), meta=meta, error=error)
        raise _rejected(error)
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta["file"] = _store(organization, meta["sha256"], data)
    try:
        try:
            kind, parsed = _parse(kind, data, filename)
            _check_strict(organization, parsed)
            packages = _package_rows(parsed) if isinstance(parsed, ParsedSbom) else []
        except RecursionError:  # a parser library recursing on a deeply nested document
            raise DocumentError("nesting_too_deep", "the document is nested too deeply to be read", "") from None
        except DocumentError as error:
            recorded = recorded_kind(getattr(error, "upload_kind", kind))
            _record_rejection(actor=actor, version=version, kind=recorded, meta=meta, error=error)
            raise _rejected(error) from None
        existing = Upload.objects.filter(
            version=version, kind=kind, sha256=meta["sha256"], status=UploadStatusChoices.ACCEPTED
        ).first()
        if existing is not None:
            return existing, False
        if progress is not None:
            progress("writing", 60)
        return _persist(actor=actor, version=version, kind=kind, meta=meta, parsed=parsed, packages=packages), True
    except DocumentError as error:  # from the RecursionError above: recorded like any refusal
        _record_rejection(actor=actor, version=version, kind=recorded_kind(kind), meta=meta, error=error)
        raise _rejected(error) from None
    except BaseException:
        discard_unreferenced(meta["file"])  # no file without its row (ADR 016)
        raise


def discard_unreferenced(name: str) -> None:
    """Delete a stored original no row names (content-addressed: another upload, or an upload job, may share it)."""
    from .sweep import is_referenced

    if not is_referenced(name):
        default_storage.delete(name)


def store_original(*, organization, data: bytes) -> tuple[str, str]:
    """Store bytes content-addressed (uploads/<org>/<sha256>); returns (storage name, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    return _store(organization, digest, data), digest


def _store(organization, digest: str, data: bytes) -> str:
    name = f"uploads/{organization.slug}/{digest}"
    if default_storage.exists(name):
        return name  # content-addressed: the same bytes are already kept
    return default_storage.save(name, ContentFile(data))


def recorded_kind(kind: str) -> str:
    """A scan that could not be told apart is recorded as SARIF, the first format tried."""
    return UploadKindChoices.SARIF if kind == SCAN else kind


def _rejected(error: DocumentError) -> DocumentRejected:
    errors = [{"path": error.path or "/", "code": error.code, "detail": error.detail}]
    return DocumentRejected(error.code, error.detail, errors)


def _parse(kind: str, data: bytes, filename: str):
    limit = settings.QLRF_UPLOAD_MAX_BYTES
    if kind == "provenance":
        return kind, provenance_parse(data)
    if kind != SCAN:
        return kind, detect_and_parse(kind, data, filename=filename, max_bytes=limit)
    for candidate in ("sarif", "inspec"):
        try:
            return candidate, detect_and_parse(candidate, data, filename=filename, max_bytes=limit)
        except DocumentError as error:
            if error.code != "unsupported_format":
                error.upload_kind = candidate  # recognised as this format but faulty: report the real fault
                raise
    raise DocumentError("unsupported_format", "not a recognised SARIF 2.1.0 log or InSpec JSON report", "")


def _check_strict(organization, parsed) -> None:
    """An organisation that imports strictly refuses a document with validation findings (issue #14)."""
    findings = getattr(parsed, "findings", ())
    if findings and organization.strict_documents:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        detail = f"{first.message}{more}; this organisation refuses documents with validation findings"
        raise DocumentError("validation_findings", detail, first.path)


def _findings(parsed) -> dict:
    findings = getattr(parsed, "findings", ())
    return {"findings_count": len(findings), "findings": [f.as_dict() for f in findings[:MAX_FINDINGS]]}


def _package_rows(parsed: ParsedSbom) -> list[dict]:
    """Plain package rows, refusing values longer than the columns hold (never silently truncated)."""
    rows = []
    for index, package in enumerate(parsed.packages):
        row = {
            "name": package.name or "",
            "version": package.version or "",
            "purl": package.purl or "",
            "type": package.type or "",
            "license": package.license or "",
            "supplier": package.supplier or "",
        }
        for field, limit in PACKAGE_LIMITS.items():
            if len(row[field]) > limit:
                detail = f"package {index} has a {field} of {len(row[field])} characters; at most {limit} are kept"
                raise DocumentError("value_too_long", detail, f"/packages/{index}/{field}")
        rows.append(row)
    return rows


def _record_rejection(*, actor, version, kind: str, meta: dict, error: DocumentError) -> Upload:
    """Write the rejected upload in its own transaction so it survives the refusal raised after it."""
    with transaction.atomic():
        ensure_permitted_on(actor, version, "add", scope="uploads")
        upload = Upload.objects.create(
            organization=version.organization,
            version=version,
            kind=kind,
            status=UploadStatusChoices.REJECTED,
            rejection_code=error.code,
            rejection_detail=error.detail[:2000],
            rejection_path=(error.path or "")[:500],
            uploaded_by=_user(actor),
            file=meta.get("file", ""),
            sha256=meta.get("sha256", ""),
            size=meta["size"],
            filename=meta["filename"],
            media_type=meta["media_type"] or "application/octet-stream",
        )
        _audit(actor, upload, "compliance.upload.reject")
    return upload


@transaction.atomic
def _persist(*, actor, version, kind: str, meta: dict, parsed, packages: list[dict]) -> Upload:
    ensure_permitted_on(actor, version, "add", scope="uploads")
    upload = Upload.objects.create(
        organization=version.organization,
        version=version,
        kind=kind,
        status=UploadStatusChoices.ACCEPTED,
        uploaded_by=_user(actor),
        file=meta["file"],
        sha256=meta["sha256"],
        size=meta["size"],
        filename=meta["filename"],
        media_type=_media_type(kind, parsed, meta["media_type"]),
    )
    if isinstance(parsed, ParsedSbom):
        _persist_sbom(upload, parsed, packages)
    elif isinstance(parsed, (ParsedSarif, ParsedInspec)):
        _persist_scan(upload, parsed)
    elif isinstance(parsed, ProvenanceClaim):
        ProvenanceDocument.objects.create(
            organization=upload.organization,
            upload=upload,
            version=upload.version,
            predicate_type=parsed.predicate_type,
            builder_id=parsed.builder_id[:1000],
            signed=parsed.signed,
            slsa_level=parsed.slsa_level,
        )
    _audit(actor, upload, "compliance.upload.accept")
    upload_event(upload, parsed)
    return upload


def upload_event(upload: Upload, parsed) -> None:
    """The outbox event of an accepted document (what an auditor sees changed)."""
    payload = {
        "family": upload.version.family.slug,
        "version": upload.version.version,
        "kind": upload.kind,
        "sha256": upload.sha256,
        "upload": upload.pk,
    }
    if isinstance(parsed, ParsedSbom):
        payload.update(format=parsed.format, packages=upload.sbom.package_count)
    subject = str(upload.version)
    emit(organization=upload.organization, type="compliance.upload.accepted", payload=payload, subject=subject)


def _persist_sbom(upload: Upload, parsed: ParsedSbom, packages: list[dict]) -> None:
    sbom = SbomDocument.objects.create(
        organization=upload.organization,
        upload=upload,
        version=upload.version,
        format=parsed.format,
        spec_version=parsed.spec_version,
        encoding=parsed.encoding,
        name=(parsed.name or "")[:500],
        package_count=len(packages),
        **_findings(parsed),
    )
    rows = (
        SbomPackage(
            organization=upload.organization,
            sbom=sbom,
            version=upload.version,
            name=row["name"],
            package_version=row["version"],
            purl=row["purl"],
            type=row["type"],
            license=row["license"],
            supplier=row["supplier"],
        )
        for row in packages
    )
    SbomPackage.objects.bulk_create(rows, batch_size=PACKAGE_BATCH)


def _persist_scan(upload: Upload, parsed: ParsedSarif | ParsedInspec) -> None:
    if isinstance(parsed, ParsedSarif):
        tool = ", ".join(parsed.tools) or "unknown"
        kind, counts, failed = ScanSummaryKindChoices.SARIF, sarif_counts(parsed), parsed.execution_failed
    else:
        tool, kind, counts = "inspec", ScanSummaryKindChoices.INSPEC, inspec_counts(parsed)
        failed = False
    ScanSummary.objects.create(
        organization=upload.organization,
        upload=upload,
        version=upload.version,
        tool=tool[:200],
        kind=kind,
        counts=counts,
        execution_failed=failed,
        **_findings(parsed),
    )


def _media_type(kind: str, parsed, given: str) -> str:
    if isinstance(parsed, ParsedSbom):
        return SBOM_MEDIA_TYPES.get((parsed.format, parsed.encoding), given or "application/octet-stream")
    return KIND_MEDIA_TYPES.get(kind, given or "application/octet-stream")


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _audit(actor, upload: Upload, action: str) -> None:
    audit_record(organization=upload.organization, actor=actor, action=action, obj=upload, after=snapshot(upload))
