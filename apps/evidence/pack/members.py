"""The members of an evidence pack for a scope, in a fixed order, each streamed in chunks when written.

Scope rules (docs/evidence.md): the image versions are those the in-scope fleet (assets present at ``as_of`` in the
chosen environments) runs; their SBOM, SARIF and InSpec originals uploaded by ``as_of`` are copied byte for byte;
signature verifications and audit events are those of the period; channel history and the drift snapshot are as of
``as_of``. The pack's own generation (and stored report generation) is left out of the audit events so that
regenerating a pack gives the same bytes.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Q

from apps.compliance.choices import UploadKindChoices, UploadStatusChoices
from apps.compliance.models import SignatureVerification, Upload
from apps.drift.models import DriftSnapshot, DriftSnapshotAsset
from apps.drift.reports import build_report_set, snapshot_cells
from apps.images.models import ChannelAssignment, ImageVersion
from apps.inventory.selectors import assets_present_at
from apps.tenancy.models import AuditEvent

from ..reports.contexts import PDF_OUTDATED_LIMIT, drift_context
from ..reports.csv_exports import DRIFT_HEADER, OUTDATED_HEADER, SIGNATURE_HEADER, csv_lines, drift_rows, signature_rows
from ..reports.pdf import render_pdf
from .scope import PackScope

CHUNK = 1024 * 1024
EVIDENCE_KINDS = (UploadKindChoices.SBOM, UploadKindChoices.SARIF, UploadKindChoices.INSPEC)
UNLISTED_AUDIT_ACTIONS = ("evidence.pack.generate", "evidence.report.generate")
SAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass
class Member:
    """One file of the pack: where, what, from which object (model + pk, or a count), effective when, its bytes."""

    path: str
    media_type: str
    source: dict
    effective_at: datetime.datetime | None
    chunks: Callable[[], Iterator[bytes]]
    expected_sha256: str = ""


def iso(moment: datetime.datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, microseconds kept (the stored value, exactly)."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _safe(part: str) -> str:
    return SAFE.sub("_", part)[:120] or "_"


def _json_bytes(value) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def fleet(scope: PackScope):
    """Assets present at ``as_of`` in the scope's environments, from the asset history (``version_then``: the image
    version each ran at ``as_of``, not the one it runs now)."""
    assets = assets_present_at(scope.organization, scope.as_of)
    return assets.filter(environment__slug__in=scope.environments) if scope.environments else assets


def versions_in_use(scope: PackScope) -> list[ImageVersion]:
    ids = fleet(scope).filter(version_then__isnull=False).values("version_then")
    return list(
        ImageVersion.objects.filter(organization=scope.organization, pk__in=ids)
        .select_related("family", "organization")
        .order_by("family__slug", "version_key", "pk")
    )


def _storage_chunks(name: str) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        with default_storage.open(name, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    return read


def upload_members(scope: PackScope, versions) -> list[Member]:
    """The SBOM, SARIF and InSpec originals of the versions, as stored (byte-exact), uploaded by ``as_of``."""
    uploads = Upload.objects.filter(
        organization=scope.organization,
        version__in=versions,
        status=UploadStatusChoices.ACCEPTED,
        kind__in=EVIDENCE_KINDS,
        uploaded_at__lte=scope.as_of,
    ).select_related("version__family")
    members = []
    for upload in uploads.order_by("pk"):
        version = upload.version
        name = _safe(upload.filename.rsplit("/", 1)[-1] if upload.filename else upload.sha256)
        members.append(
            Member(
                path=f"compliance/{_safe(version.family.slug)}/{_safe(version.version)}/{upload.kind}/{upload.pk}-{name}",
                media_type=upload.media_type or "application/octet-stream",
                source={"model": "compliance.upload", "pk": upload.pk},
                effective_at=upload.uploaded_at,
                chunks=_storage_chunks(upload.file.name),
                expected_sha256=upload.sha256,
            )
        )
    return members


def contract_members(versions) -> list[Member]:
    """Each version's validated contract as canonical (sorted, indented) JSON."""
    return [
        Member(
            path=f"images/{_safe(v.family.slug)}/{_safe(v.version)}/contract.json",
            media_type="application/json",
            source={"model": "images.imageversion", "pk": v.pk},
            effective_at=v.released_at or v.created_at,
            chunks=lambda v=v: iter([_json_bytes(v.contract)]),
        )
        for v in versions
    ]


CHANNEL_HEADER = ["assigned_at", "family", "environment", "from_version", "to_version", "grace_until", "rollback", "by"]


def channel_member(scope: PackScope, versions) -> list[Member]:
    """Every promotion and rollback, up to ``as_of``, of the channels of the versions' families."""
    rows = ChannelAssignment.objects.filter(
        organization=scope.organization,
        channel__family__in={v.family_id for v in versions},
        assigned_at__lte=scope.as_of,
    )
    if scope.environments:
        rows = rows.filter(channel__environment__slug__in=scope.environments)
    rows = rows.order_by("assigned_at", "pk")
    last = rows.last()
    if last is None:
        return []
    values = rows.values_list(
        "assigned_at",
        "channel__family__slug",
        "channel__environment__slug",
        "from_version__version",
        "to_version__version",
        "grace_until",
        "is_rollback",
        "assigned_by__username",
    )
    return [
        Member(
            path="images/channel-history.csv",
            media_type="text/csv",
            source={"model": "images.channelassignment", "pk": None, "count": rows.count()},
            effective_at=last.assigned_at,
            chunks=lambda: csv_lines(CHANNEL_HEADER, (list(r) for r in values.iterator(chunk_size=500))),
        )
    ]


def _verifications(scope: PackScope, versions):
    rows = SignatureVerification.objects.filter(
        organization=scope.organization, version__in=versions, **scope.in_period("created_at")
    )
    if scope.environments:
        rows = rows.filter(Q(environment__isnull=True) | Q(environment__slug__in=scope.environments))
    return rows.order_by("created_at", "pk")


def _json_array(header: list[str], rows: Iterator[list]) -> Iterator[bytes]:
    yield b"["
    for index, row in enumerate(rows):
        values = [iso(value) if isinstance(value, datetime.datetime) else value for value in row]
        item = dict(zip(header, values, strict=True))
        yield (",\n" if index else "\n").encode() + json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
    yield b"\n]\n"


def verification_members(scope: PackScope, versions) -> list[Member]:
    """The signature verification log of the period for the versions, as CSV and as JSON."""
    rows = _verifications(scope, versions)
    last = rows.last()
    if last is None:
        return []
    source = {"model": "compliance.signatureverification", "pk": None, "count": rows.count()}
    return [
        Member(
            "compliance/signature-verifications.csv",
            "text/csv",
            source,
            last.created_at,
            lambda: csv_lines(SIGNATURE_HEADER, signature_rows(rows)),
        ),
        Member(
            "compliance/signature-verifications.json",
            "application/json",
            dict(source),
            last.created_at,
            lambda: _json_array(SIGNATURE_HEADER, signature_rows(rows)),
        ),
    ]


def drift_members(scope: PackScope) -> list[Member]:
    """The last drift snapshot at or before ``as_of``: its cells (CSV), outdated machines (CSV) and the PDF report."""
    snapshot = (
        DriftSnapshot.objects.filter(organization=scope.organization, taken_at__lte=scope.as_of)
        .order_by("-taken_at", "-id")
        .first()
    )
    if snapshot is None:
        return []
    organization = scope.organization
    cells, outdated_cells = snapshot_cells(snapshot)
    keep = set(scope.environments)
    if keep:
        cells = {key: cell for key, cell in cells.items() if key[0] in keep}
        outdated_cells = {key: rows for key, rows in outdated_cells.items() if key[0] in keep}
    report = build_report_set(organization, cells, snapshot.taken_at, source="snapshot", snapshot_id=snapshot.pk)
    outdated = DriftSnapshotAsset.objects.filter(snapshot=snapshot)
    if keep:
        outdated = outdated.filter(environment_slug__in=keep)
    outdated = outdated.order_by("-days_behind", "instance_id", "pk")
    fields = [name if name not in ("environment", "site") else f"{name}_slug" for name in OUTDATED_HEADER]

    def pdf() -> Iterator[bytes]:
        rows = [list(r) for r in itertools.islice(outdated.values_list(*fields), PDF_OUTDATED_LIMIT)]
        scope_label = ", ".join(scope.environments) or "every environment"
        context = drift_context(organization, report, (rows, outdated.count()), scope=scope_label)
        yield render_pdf("reports/drift.html", context, as_of=snapshot.taken_at)

    source = {"model": "drift.driftsnapshot", "pk": snapshot.pk}
    return [
        *insight_members(scope, snapshot),
        Member(
            "drift/outdated.csv",
            "text/csv",
            source,
            snapshot.taken_at,
            lambda: csv_lines(OUTDATED_HEADER, (list(r) for r in outdated.values_list(*fields).iterator(500))),
        ),
        Member("drift/report.pdf", "application/pdf", dict(source), snapshot.taken_at, pdf),
        Member(
            "drift/summary.csv",
            "text/csv",
            dict(source),
            snapshot.taken_at,
            lambda: csv_lines(DRIFT_HEADER, itertools.chain(drift_rows(report.reports), drift_rows([report.total]))),
        ),
    ]


def insight_members(scope: PackScope, snapshot) -> list[Member]:
    """The top causes of each environment in scope (or of the organisation) as of the drift snapshot, with their
    provenance (deterministic template, or which model), as JSON."""
    from apps.insights.evidence import insight_as_of

    environments = scope.environments or (None,)
    summaries = [
        insight_as_of(scope.organization, environment=environment, at=snapshot.taken_at) for environment in environments
    ]
    summaries = [summary for summary in summaries if summary is not None]
    if not summaries:
        return []
    source = {"model": "drift.driftsnapshot", "pk": snapshot.pk}
    body = _json_bytes(summaries)
    return [Member("insights/causes.json", "application/json", source, snapshot.taken_at, lambda: iter([body]))]


def _audit_lines(events) -> Iterator[bytes]:
    rows = events.values_list(
        "pk",
        "occurred_at",
        "actor_repr",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "request_id",
        "source_ip",
    )
    keys = ("id", "occurred_at", "actor", "action", "object_type", "object_id", "object_repr", "changes")
    for pk, occurred, *rest, request_id, source_ip in rows.iterator(chunk_size=500):
        item = dict(zip(keys, [pk, iso(occurred), *rest], strict=True))
        item.update(request_id=request_id, source_ip=source_ip)
        yield (json.dumps(item, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


def audit_members(scope: PackScope) -> list[Member]:
    """The organisation's audit events of the period as JSON lines (oldest first)."""
    events = (
        AuditEvent.objects.filter(organization=scope.organization, **scope.in_period("occurred_at"))
        .exclude(action__in=UNLISTED_AUDIT_ACTIONS)
        .order_by("occurred_at", "pk")
    )
    last = events.last()
    if last is None:
        return []
    source = {"model": "tenancy.auditevent", "pk": None, "count": events.count()}
    return [Member("audit/events.jsonl", "application/jsonl", source, last.occurred_at, lambda: _audit_lines(events))]


def drill_members(scope: PackScope) -> list[Member]:
    """The DR drill runs finished in the period (in the scope's environments), with their steps, as JSON."""
    from apps.resilience.selectors import drill_evidence_runs

    runs = drill_evidence_runs(
        scope.organization, environments=scope.environments, begin=scope.begin, as_of=scope.as_of
    )
    if not runs:
        return []
    last = datetime.datetime.fromisoformat(runs[-1]["finished_at"].replace("Z", "+00:00"))
    source = {"model": "resilience.drillrun", "pk": None, "count": len(runs)}
    return [Member("resilience/drill-runs.json", "application/json", source, last, lambda: iter([_json_bytes(runs)]))]


def pack_members(scope: PackScope) -> list[Member]:
    """Every member of the pack, sorted by path (the fixed order of the ZIP)."""
    versions = versions_in_use(scope)
    members = [
        *upload_members(scope, versions),
        *contract_members(versions),
        *channel_member(scope, versions),
        *verification_members(scope, versions),
        *drift_members(scope),
        *drill_members(scope),
        *audit_members(scope),
    ]
    return sorted(members, key=lambda m: m.path)


def estimated_size(scope: PackScope) -> int:
    """Bytes of the originals a pack would copy: what decides whether it is built inline or by a task."""
    versions = versions_in_use(scope)
    uploads = Upload.objects.filter(
        organization=scope.organization,
        version__in=versions,
        status=UploadStatusChoices.ACCEPTED,
        kind__in=EVIDENCE_KINDS,
        uploaded_at__lte=scope.as_of,
    )
    return sum(uploads.values_list("size", flat=True))
