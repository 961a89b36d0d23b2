"""Importing a channel's past promotions, so drift age is true from the first day (not "promoted at load time").

Each imported promotion is a ``ChannelAssignment`` with ``imported=True`` and its real ``assigned_at``. Rules: not in
the future; strictly after the channel's earlier imported promotions (history is brought in oldest first) and before
any promotion made here; the version belongs to the channel's family and was published once (not a draft). Audited;
no outbox event — history is not news. Engineers and admins only (the ``images`` change permission).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Environment
from qlrf.errors import DocumentRejected, field_error
from qlrf.taskqueue import task_on_commit

from ..choices import ImageVersionStatusChoices as Status
from ..models import Channel, ChannelAssignment, ImageFamily, ImageVersion
from ._common import audited
from .channels import SNAPSHOT_TASK

MAX_PROMOTIONS = 1000


def _aware(value) -> datetime.datetime:
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise field_error("promoted_at", f"{value!r} is not an ISO 8601 date-time", "invalid") from None
    if not isinstance(value, datetime.datetime):
        raise field_error("promoted_at", "promoted_at must be a date-time", "invalid")
    if timezone.is_naive(value):
        raise field_error("promoted_at", "promoted_at needs a time zone (e.g. 2026-05-01T09:00:00Z)", "invalid")
    return value


@transaction.atomic
def channel_promotion_import(
    *, actor, family: ImageFamily, environment: Environment, version: str, promoted_at, grace_days: int | None = None
) -> ChannelAssignment:
    """Append one past promotion of ``family`` in ``environment`` to its channel's history (see the module rules)."""
    from apps.tenancy.services import ensure_permitted_on

    ensure_permitted_on(actor, family, "change")
    if environment.organization_id != family.organization_id:
        raise field_error("environment", "the environment belongs to another organization", "cross_tenant")
    at = _aware(promoted_at)
    if at > timezone.now():
        raise field_error("promoted_at", f"{at.isoformat()} is in the future; import only past promotions", "future")
    target = ImageVersion.objects.filter(family=family, version=str(version or "").strip()).first()
    if target is None:
        raise field_error("version", f"{family.slug} has no version {version!r}", "unknown_version")
    if target.status == Status.DRAFT:
        raise field_error("version", f"{target} is a draft: it was never published, so never promoted", "draft")
    channel, _ = Channel.objects.select_for_update().get_or_create(
        organization=family.organization, family=family, environment=environment
    )
    if grace_days is not None and (type(grace_days) is not int or not 0 <= grace_days <= 365):
        raise field_error("grace_days", "grace_days must be a whole number of days from 0 to 365", "invalid")
    history = ChannelAssignment.objects.filter(channel=channel)
    last_imported = history.filter(imported=True).order_by("-assigned_at", "-id").first()
    first_live = history.filter(imported=False).order_by("assigned_at", "id").first()
    if last_imported is not None and at <= last_imported.assigned_at:
        raise field_error(
            "promoted_at",
            f"promotions are imported oldest first: {at.isoformat()} is not after the imported "
            f"{last_imported.assigned_at.isoformat()}",
            "out_of_order",
        )
    if first_live is not None and at >= first_live.assigned_at:
        raise field_error(
            "promoted_at",
            f"{channel} was promoted here on {first_live.assigned_at.isoformat()}; imported history must be older",
            "out_of_order",
        )
    previous = last_imported.to_version if last_imported is not None else None
    if previous is not None and previous.pk == target.pk:
        raise field_error("version", f"{target} is already the channel's version at that point", "unchanged")
    grace = datetime.timedelta(days=(channel.grace_days if grace_days is None else grace_days) if previous else 0)
    assignment = ChannelAssignment.objects.create(
        organization=family.organization,
        channel=channel,
        from_version=previous,
        to_version=target,
        assigned_at=at,
        assigned_by=actor if actor is not None and actor.pk else None,
        grace_until=at + grace,
        imported=True,
    )
    if first_live is None:  # no promotion made here yet: the imported history says where the channel stands
        channel.version = target
        channel.save(update_fields=["version"])
    audited(actor=actor, obj=assignment, action="images.channel.import")
    task_on_commit(SNAPSHOT_TASK, family.organization_id, "promotion")
    return assignment


@transaction.atomic
def channel_history_import(
    *, actor, organization, family: str, environment: str, promotions: list[dict]
) -> list[ChannelAssignment]:
    """Import a channel's past promotions in one go: all of them or none (errors name ``/promotions/<n>/<field>``)."""
    if not isinstance(promotions, list) or not promotions or len(promotions) > MAX_PROMOTIONS:
        raise DocumentRejected(
            "invalid_history", f"promotions must be a list of 1 to {MAX_PROMOTIONS} past promotions", []
        )
    found_family = ImageFamily.objects.filter(organization=organization, slug=family).first()
    if found_family is None:
        raise field_error("family", f"no image family {family!r}", "unknown_family")
    found_env = Environment.objects.filter(organization=organization, slug=environment).first()
    if found_env is None:
        raise field_error("environment", f"no environment {environment!r}", "unknown_environment")
    created = []
    for index, row in enumerate(promotions):
        if not isinstance(row, dict):
            raise DocumentRejected(
                "invalid_history",
                f"promotion {index} is not an object",
                [{"path": f"/promotions/{index}", "line": None, "code": "invalid", "detail": "not an object"}],
            )
        try:
            created.append(
                channel_promotion_import(
                    actor=actor,
                    family=found_family,
                    environment=found_env,
                    version=row.get("version"),
                    promoted_at=row.get("promoted_at"),
                    grace_days=row.get("grace_days"),
                )
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
            code = exc.error_dict[field][0].code if hasattr(exc, "error_dict") else "invalid"
            raise DocumentRejected(
                "invalid_history",
                f"promotion {index}: {'; '.join(messages)}",
                [{"path": f"/promotions/{index}/{field}", "line": None, "code": code, "detail": "; ".join(messages)}],
            ) from None
    return created
