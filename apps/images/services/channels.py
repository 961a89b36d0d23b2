"""Channels: promote a version to an environment's channel (with grace for the previous one), and roll back."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from apps.events.services import emit
from apps.tenancy.services import ensure_permitted_on
from qlrf.errors import field_error
from qlrf.taskqueue import task_on_commit

from ..choices import ImageVersionStatusChoices as Status
from ..models import Channel, ChannelAssignment, ImageVersion
from ._common import audited, illegal

# Named, not imported: the images app knows nothing of drift (written on commit, qlrf.taskqueue, ADR 010).
SNAPSHOT_TASK = "apps.drift.tasks.drift_snapshot_task"


@transaction.atomic
def channel_promote(
    *, actor, version: ImageVersion, environment, grace_days: int | None = None, rollback: bool = False
) -> ChannelAssignment:
    """Make ``version`` the golden version of its family in ``environment``; only published versions may go."""
    ensure_permitted_on(actor, version, "change")
    if environment.organization_id != version.organization_id:
        raise field_error("environment", "the environment belongs to another organization", "cross_tenant")
    version = ImageVersion.objects.select_related("family").get(pk=version.pk)
    now = timezone.now()
    if version.status != Status.PUBLISHED or version.is_revoked_at(now):
        raise illegal(f"{version} is {version.status}; only a published version can be promoted")
    if grace_days is not None and not 0 <= grace_days <= 365:
        raise field_error("grace_days", "grace_days must be between 0 and 365", "invalid")
    channel, _ = Channel.objects.select_for_update().get_or_create(
        organization=version.organization, family=version.family, environment=environment
    )
    if grace_days is not None and grace_days != channel.grace_days:
        channel.grace_days = grace_days
    previous = channel.version
    if previous is not None and previous.pk == version.pk:
        raise illegal(f"{version} is already golden in {environment.slug}")
    grace = datetime.timedelta(days=channel.grace_days if previous is not None else 0)
    channel.version = version
    channel.save()
    assignment = ChannelAssignment.objects.create(
        organization=version.organization,
        channel=channel,
        from_version=previous,
        to_version=version,
        assigned_at=now,
        assigned_by=actor if actor is not None and actor.pk else None,
        grace_until=now + grace,
        is_rollback=rollback,
    )
    audited(actor=actor, obj=channel, action="images.channel.rollback" if rollback else "images.channel.promote")
    emit(
        organization=version.organization,
        type="image.channel.promoted",
        payload={
            "family": version.family.slug,
            "environment": environment.slug,
            "from_version": previous.version if previous else None,
            "to_version": version.version,
            "grace_days": channel.grace_days if previous else 0,
            "rollback": rollback,
        },
    )
    task_on_commit(SNAPSHOT_TASK, version.organization_id, "promotion")
    return assignment


@transaction.atomic
def channel_rollback(*, actor, channel: Channel) -> ChannelAssignment:
    """Point a channel back at the version it held before its last promotion."""
    last = ChannelAssignment.objects.filter(channel=channel).order_by("-assigned_at", "-id").first()
    if last is None or last.from_version is None:
        raise illegal(f"{channel} has no earlier version to roll back to")
    return channel_promote(actor=actor, version=last.from_version, environment=channel.environment, rollback=True)
