"""The transactional outbox and what the relay, webhooks and the inbound consumer keep about it.

Events are rows written in the same transaction as the data they describe (``OutboxEvent``). The relay gives each
a per-organisation ``sequence`` when it publishes it, and stores where it went (``position``). ``EventStream`` is the
per-organisation row a relay locks while it publishes that organisation's events, so order per tenant holds with
several relays running. Webhook endpoints and their delivery log, processed inbound ids and dead letters follow.
"""

import uuid

from django.db import models
from django.utils import timezone

from apps.tenancy.models import TenantModel

CE_SOURCE = "/qlrf"
CE_DATA_SCHEMA = "https://qlrf.io/contracts/events.schema.json"


class OutboxEvent(TenantModel):
    """One event (a CloudEvents 1.0 envelope, contracts/events.schema.json) waiting for, or handed to, the relay."""

    # Every index but the partial one is written again on every publish (an UPDATE that sets sequence and position
    # cannot be HOT), so the outbox keeps three: the key, outbox_org_sequence_unique (also the organisation's index:
    # the pull API and replay read by organisation and sequence) and outbox_pending_org, which holds pending rows only
    # (the relay, the backlog and its metrics). ``type`` is only filtered within one organisation's sequence range;
    # retention (``events_prune``) scans the table once a day.
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="outbox_events", db_index=False
    )
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    subject = models.CharField(max_length=300, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)
    schema_version = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    published_at = models.DateTimeField(null=True, blank=True)
    sequence = models.BigIntegerField(null=True, blank=True, help_text="Per-organisation order, given on publish.")
    position = models.CharField(max_length=200, blank=True, default="", help_text="Stream entry id or t/p/offset.")
    transport = models.CharField(max_length=16, blank=True, default="")

    permission_scope = "events"

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            # The relay's read: one organisation's pending events in order, without sorting the whole backlog.
            models.Index(
                fields=["organization", "occurred_at", "id"],
                condition=models.Q(published_at__isnull=True),
                name="outbox_pending_org",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="outbox_org_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def envelope(self, *, replay: bool = False) -> dict:
        """The event as subscribers receive it: a CloudEvents 1.0 structured-mode JSON object."""
        attributes = envelope_attributes(
            id=str(self.id), organization=self.organization.slug, type=self.type, occurred_at=self.occurred_at,
            schema_version=self.schema_version, subject=self.subject, sequence=self.sequence, replay=replay,
        )  # fmt: skip
        return {**attributes, "data": self.payload}


def envelope_attributes(*, id: str, organization: str, type: str, occurred_at, schema_version: int,  # noqa: A002
                        subject: str = "", sequence: int | None = None, replay: bool = False) -> dict:  # fmt: skip
    """An envelope's CloudEvents attributes (everything but ``data``): one definition for the model and the relay."""
    attributes = {
        "specversion": "1.0",
        "id": id,
        "source": f"{CE_SOURCE}/{organization}",
        "type": type,
        "time": occurred_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": CE_DATA_SCHEMA,
        "organization": organization,
        "schemaversion": schema_version,
    }
    if subject:
        attributes["subject"] = subject
    if sequence is not None:
        attributes["sequence"] = sequence
    if replay:
        attributes["replay"] = True
    return attributes


class EventStream(TenantModel):
    """The per-organisation cursor a relay locks (``FOR UPDATE SKIP LOCKED``) while publishing that tenant's events."""

    organization = models.OneToOneField("tenancy.Organization", on_delete=models.CASCADE, related_name="event_stream")
    last_sequence = models.BigIntegerField(default=0)

    permission_scope = "events"

    def __str__(self) -> str:
        return f"{self.organization} @ {self.last_sequence}"


class WebhookEndpoint(TenantModel):
    """Where an organisation wants its events POSTed, signed per Standard Webhooks."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000)
    event_types = models.JSONField(default=list, blank=True, help_text='Patterns such as "image.*"; empty: all.')
    secret = models.CharField(max_length=200, help_text="whsec_… (base64); shown once on creation.")
    allow_private = models.BooleanField(
        default=False, help_text="Installation admins only: allow loopback/private/link-local targets."
    )
    failure_count = models.PositiveIntegerField(default=0, help_text="Consecutive failed attempts.")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    permission_scope = "webhooks"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="webhook_org_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class WebhookDelivery(TenantModel):
    """The delivery log: one event to one endpoint, with its attempts and the last outcome."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    replay = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    permission_scope = "webhooks"
    tenant_path = "organization"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}: {self.status}"


class InboundProcessed(models.Model):
    """Ids of inbound events already applied: a redelivered event changes nothing."""

    id = models.CharField(primary_key=True, max_length=200)
    type = models.CharField(max_length=64)
    processed_at = models.DateTimeField(default=timezone.now)


class DeadLetter(models.Model):
    """An inbound event that failed validation, named an unknown organisation, or failed N times."""

    event_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    raw = models.TextField(help_text="The message as received.")
    reason = models.CharField(max_length=1000)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    redriven_at = models.DateTimeField(null=True, blank=True)
    redrive_outcome = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id or '?'}: {self.reason[:60]}"


class PublishErrorCount(models.Model):
    """Failed relay publications by transport and reason: a counter every relay process adds to, read by /metrics."""

    transport = models.CharField(max_length=16)
    reason = models.CharField(max_length=64, help_text="A bounded label: connection, timeout, response, a Kafka code…")
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["transport", "reason"], name="publish_error_unique")]

    def __str__(self) -> str:
        return f"{self.transport}/{self.reason}: {self.count}"
