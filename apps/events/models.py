"""The transactional outbox: events are rows written in the same transaction as the data they describe."""

import uuid

from django.db import models
from django.utils import timezone

from apps.tenancy.models import TenantModel


class OutboxEvent(TenantModel):
    """One event envelope (contracts/events.schema.json) waiting for, or already handed to, the relay."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="outbox_events")
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    schema_version = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    permission_scope = "events"

    class Meta:
        ordering = ["occurred_at"]
        indexes = [models.Index(fields=["published_at", "occurred_at"], name="outbox_pending")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def envelope(self) -> dict:
        """The event as subscribers receive it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "organization": self.organization.slug,
            "schema_version": self.schema_version,
            "payload": self.payload,
        }
