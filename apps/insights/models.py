"""Insights: the answer to one question (a scope) on one generation of the organisation's data, computed once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.tenancy.models import TenantModel


class Insight(TenantModel):
    """Facts, ranked causes and the narrative of one scope at one data generation (qlrf/cache_generation.py).

    A cache with provenance: the same question on the same data is answered from this row, never recomputed and never
    sent to a model twice. Live answers expire with the drift report's lifetime (grace ends change them without any
    write); as-of answers never expire.
    """

    scope_key = models.CharField(max_length=400, help_text="environment|site|platform|as_of of the question.")
    environment_slug = models.CharField(max_length=100, blank=True)
    site_slug = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=16, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    snapshot_id = models.BigIntegerField(null=True, blank=True, help_text="The drift snapshot in force at as_of.")
    generation = models.BigIntegerField(help_text="The organisation's data generation the answer was computed on.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Null: never (as-of answers).")
    facts = models.JSONField(default=dict)
    causes = models.JSONField(default=list)
    narrative = models.TextField(help_text="What the surfaces show: the deterministic text or an accepted model's.")
    deterministic_narrative = models.TextField()
    risk_summary = models.TextField(blank=True)
    template_id = models.CharField(max_length=64)
    template_version = models.PositiveIntegerField()
    provenance = models.CharField(max_length=16, default="deterministic", help_text="deterministic | model")
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=32, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    model_status = models.CharField(
        max_length=32,
        blank=True,
        help_text="Empty (no provider), accepted, rejected, limit_reached, unavailable (breaker open, timeout, error).",
    )
    rejection = models.TextField(blank=True, help_text="Why a model answer was discarded (the offending token).")

    permission_scope = "inventory"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scope_key", "generation"], name="insight_unique_question_generation"
            )
        ]

    def __str__(self) -> str:
        return f"insight {self.scope_key or 'organisation'} @ {self.generation}"


class InsightProvider(TenantModel):
    """An organisation's language model, enabled in the admin: it may only rephrase the deterministic narrative.

    The secret is a credential reference (env:NAME, file:/path, vault:path#key), never the key itself.
    """

    class Kind(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible Chat Completions (OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM)"
        ANTHROPIC = "anthropic", "Anthropic Messages"

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="insight_provider"
    )
    enabled = models.BooleanField(default=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    base_url = models.URLField(blank=True, help_text="Empty: the SDK's default endpoint.")
    model = models.CharField(max_length=200)
    credential_ref = models.CharField(max_length=300, blank=True, help_text="env:NAME, file:/path or vault:path#key.")
    max_output_tokens = models.PositiveIntegerField(default=800)
    requests_per_day = models.PositiveIntegerField(default=100, help_text="Model calls per day for the organisation.")
    tokens_per_day = models.PositiveIntegerField(default=200_000, help_text="Input + output tokens per day.")

    permission_scope = "organization"

    def __str__(self) -> str:
        return f"{self.organization} → {self.kind} {self.model}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from apps.inventory.credentials import CredentialError, validate_reference

        try:
            validate_reference(self.credential_ref)
        except CredentialError as exc:
            raise ValidationError({"credential_ref": str(exc)}) from None
