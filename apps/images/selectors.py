"""Reads of the image registry: restricted lists, the baseline at any moment, ancestry."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .models import Channel, ChannelAssignment, ImageFamily, ImageVersion


def image_family_list(user):
    return ImageFamily.objects.restrict(user, "view").order_by("name")


def image_version_list(user):
    return (
        ImageVersion.objects.restrict(user, "view")
        .select_related("family", "parent")
        .order_by("family__slug", "-version_key")
    )


def channel_list(user):
    return Channel.objects.restrict(user, "view").select_related("family", "environment", "version")


@dataclass(frozen=True)
class Baseline:
    """What a channel said at one moment: the golden version, and the previous one while its grace lasts."""

    version: ImageVersion | None
    previous: ImageVersion | None
    grace_until: datetime.datetime | None
    assigned_at: datetime.datetime | None


def channel_baseline_at(channel: Channel, at: datetime.datetime) -> Baseline:
    """The golden version of ``channel`` at ``at``, answered from the append-only assignment history."""
    assignment = (
        ChannelAssignment.objects.filter(channel=channel, assigned_at__lte=at)
        .select_related("to_version", "from_version")
        .order_by("-assigned_at", "-id")
        .first()
    )
    if assignment is None:
        return Baseline(None, None, None, None)
    in_grace = assignment.from_version if assignment.grace_until > at else None
    return Baseline(assignment.to_version, in_grace, assignment.grace_until, assignment.assigned_at)


def image_version_ancestry(version: ImageVersion) -> list[ImageVersion]:
    """The chain of parents, nearest first (bounded, so a corrupted cycle cannot loop forever)."""
    chain, current = [], version.parent
    while current is not None and len(chain) < 100:
        chain.append(current)
        current = current.parent
    return chain


def channel_history(channel: Channel):
    """Every assignment of a channel, newest first."""
    return (
        ChannelAssignment.objects.filter(channel=channel)
        .select_related("from_version__family", "to_version__family", "assigned_by")
        .order_by("-assigned_at", "-id")
    )
