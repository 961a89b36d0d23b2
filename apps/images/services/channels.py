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
    *,
    actor,
    version: ImageVersion,
    environment,
    grace_days: int | None = None,
    rollback: bool = False,
    promoted_at: datetime.datetime | None = None,
) -> ChannelAssignment:
    """Make ``version`` the golden version of its family in ``environment``; only published versions may go.

    ``promoted_at`` records a promotion that happened in the past (bringing a channel's history): never in the future,
    never before the version's release, never before the channel's latest promotion, so the history stays ordered.
    """
    ensure_permitted_on(actor, version, "change")
    if environment.organization_id != version.organization_id:
        raise field_error("environment", "the environment belongs to another organization", "cross_tenant")
    version = ImageVersion.objects.select_related("family").get(pk=version.pk)
    now = timezone.now()
    if promoted_at is not None:
        _check_past_promotion(version, environment, promoted_at, now)
        now = promoted_at
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


def _check_past_promotion(version: ImageVersion, environment, promoted_at: datetime.datetime, now) -> None:
    if timezone.is_naive(promoted_at):
        raise field_error("promoted_at", "give the promotion time with its time zone", "naive_datetime")
    if promoted_at > now:
        raise field_error("promoted_at", "a promotion cannot be recorded in the future", "in_future")
    if version.released_at and promoted_at < version.released_at:
        detail = f"{version} was released {version.released_at:%Y-%m-%d %H:%M}Z, after {promoted_at:%Y-%m-%d %H:%M}Z"
        raise field_error("promoted_at", detail, "before_release")
    latest = (
        ChannelAssignment.objects.filter(channel__family=version.family, channel__environment=environment)
        .order_by("-assigned_at")
        .values_list("assigned_at", flat=True)
        .first()
    )
    if latest is not None and promoted_at < latest:
        detail = f"the channel's latest promotion is at {latest:%Y-%m-%d %H:%M}Z; record promotions in order"
        raise field_error("promoted_at", detail, "out_of_order")


@transaction.atomic
def channel_rollback(*, actor, channel: Channel) -> ChannelAssignment:
    """Point a channel back at the version it held before its last promotion."""
    last = ChannelAssignment.objects.filter(channel=channel).order_by("-assigned_at", "-id").first()
    if last is None or last.from_version is None:
        raise illegal(f"{channel} has no earlier version to roll back to")
    return channel_promote(actor=actor, version=last.from_version, environment=channel.environment, rollback=True)
