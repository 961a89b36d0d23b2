"""Version lifecycle: publish, deprecate, and revocation (immediate or scheduled) inherited by descendants."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.tenancy.services import ensure_permitted_on, snapshot
from qlrf.errors import Refused
from qlrf.taskqueue import task_on_commit

from ..choices import ImageVersionStatusChoices as Status
from ..models import ImageVersion
from ._common import audited, illegal, version_event

# Named, not imported: the images app knows nothing of drift (written on commit, qlrf.taskqueue, ADR 010).
SNAPSHOT_TASK = "apps.drift.tasks.drift_snapshot_task"


def _locked(version: ImageVersion) -> ImageVersion:
    return ImageVersion.objects.select_for_update().select_related("family", "organization").get(pk=version.pk)


@transaction.atomic
def image_version_publish(*, actor, version: ImageVersion) -> ImageVersion:
    """draft → published (publishing an already published version is a no-op; a revoked one is refused)."""
    version = _locked(version)
    ensure_permitted_on(actor, version, "change")
    if version.status == Status.PUBLISHED:
        return version
    if version.status != Status.DRAFT or version.revoked_at is not None:
        raise illegal(
            f"{version} is {version.status}{' (revoked)' if version.revoked_at else ''}; only a draft can be published"
        )
    before = snapshot(version)
    version.status = Status.PUBLISHED
    version.released_at = version.released_at or timezone.now()
    version.save(update_fields=["status", "released_at"])
    audited(actor=actor, obj=version, action="images.imageversion.publish", before=before)
    version_event(version, "image.version.published")
    return version


@transaction.atomic
def image_version_deprecate(*, actor, version: ImageVersion) -> ImageVersion:
    """published → deprecated: still allowed to run, no longer to be promoted."""
    version = _locked(version)
    ensure_permitted_on(actor, version, "change")
    if version.status != Status.PUBLISHED:
        raise illegal(f"{version} is {version.status}; only a published version can be deprecated")
    before = snapshot(version)
    version.status = Status.DEPRECATED
    version.deprecated_at = timezone.now()
    version.save(update_fields=["status", "deprecated_at"])
    audited(actor=actor, obj=version, action="images.imageversion.deprecate", before=before)
    version_event(version, "image.version.deprecated")
    return version


def _descendants(version: ImageVersion) -> list[ImageVersion]:
    """Every version built (directly or not) from ``version``, one query per generation."""
    found, frontier = [], [version.pk]
    while frontier:
        children = list(ImageVersion.objects.select_for_update().filter(parent_id__in=frontier))
        found.extend(children)
        frontier = [child.pk for child in children]
    return found


def _revoke_one(actor, version, *, effective_at, reason, via, now) -> None:
    before = snapshot(version)
    version.revoked_at = effective_at
    version.revocation_reason = reason
    version.revoked_via = via
    if effective_at <= now:
        version.status = Status.REVOKED
    version.save(update_fields=["revoked_at", "revocation_reason", "revoked_via", "status"])
    audited(actor=actor, obj=version, action="images.imageversion.revoke", before=before)
    version_event(
        version,
        "image.version.revoked",
        reason=reason,
        inherited_from=str(via) if via else None,
        effective_at=effective_at.isoformat(),
    )


@transaction.atomic
def image_version_revoke(
    *, actor, version: ImageVersion, reason: str, effective_at: datetime.datetime | None = None
) -> list[ImageVersion]:
    """Revoke a version now or at ``effective_at``; every descendant inherits it. Returns all versions revoked."""
    version = _locked(version)
    ensure_permitted_on(actor, version, "change")
    now = timezone.now()
    effective_at = effective_at or now
    if version.revoked_at is not None and version.revoked_at <= now:
        raise illegal(f"{version} is already revoked")
    if not reason.strip():
        from qlrf.errors import field_error

        raise field_error("reason", "a revocation needs a reason", "required")
    descendants = [
        child
        for child in _descendants(version)
        if not (child.revoked_at is not None and child.revoked_at <= effective_at)
    ]
    out_of_reach = [child for child in descendants if not _may_change(actor, child)]
    if out_of_reach:
        # Project scope is a wall: refuse whole rather than revoke half a lineage (ADR 013).
        raise Refused(
            "descendants_out_of_reach",
            f"{len(out_of_reach)} descendant version(s) of {version} are in projects you have no rights in; "
            "an organisation-wide member must revoke this version",
        )
    _revoke_one(actor, version, effective_at=effective_at, reason=reason, via=None, now=now)
    revoked = [version]
    for child in descendants:
        _revoke_one(
            actor, child, effective_at=effective_at, reason=f"inherited from {version}: {reason}", via=version, now=now
        )
        revoked.append(child)
    task_on_commit(SNAPSHOT_TASK, version.organization_id, "revocation")
    return revoked


def _may_change(actor, version: ImageVersion) -> bool:
    try:
        ensure_permitted_on(actor, version, "change")
    except PermissionDenied:
        return False
    return True


@transaction.atomic
def image_revocations_apply(*, now: datetime.datetime | None = None) -> int:
    """Turn scheduled revocations whose time has come into the revoked status (run by a django-q2 schedule)."""
    now = now or timezone.now()
    due = list(ImageVersion.objects.select_for_update().filter(revoked_at__lte=now).exclude(status=Status.REVOKED))
    for version in due:
        before = snapshot(version)
        version.status = Status.REVOKED
        version.save(update_fields=["status"])
        audited(actor=None, obj=version, action="images.imageversion.revocation_effective", before=before)
    for organization_id in sorted({version.organization_id for version in due}):
        task_on_commit(SNAPSHOT_TASK, organization_id, "revocation")
    return len(due)
