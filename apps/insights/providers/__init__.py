"""Model providers: an organisation's enabled model may rephrase the deterministic narrative, never add to it.

The model gets the facts (scope, totals, ranked causes) as JSON and the draft; its answer is shown only if every
checked token in it appears in what it was given (``grounding``). Otherwise, or when the quota is used up, the
breaker is open or the call fails, the deterministic text is shown and the reason is stored and logged.
"""

from __future__ import annotations

import json
import logging
import time

import pybreaker

from ..narratives import template
from .grounding import allowed_tokens, ungrounded
from .guard import LimitReached, call, charge_tokens, take_request

logger = logging.getLogger(__name__)
PROMPT = "rephrase.v1"


def model_facts(facts: dict, causes: list[dict]) -> dict:
    """What the model sees: the scope, totals, changes summary and ranked causes (not every machine row)."""
    return {
        "organization": facts["organization"],
        "scope": facts["scope"],
        "at": facts["at"],
        "totals": facts["totals"],
        "causes": causes,
    }


def rephrase_for(organization):
    """The rephrase step of the organisation's enabled provider, or None (deterministic only)."""
    from ..models import InsightProvider

    provider = InsightProvider.objects.filter(organization=organization, enabled=True).first()
    if provider is None:
        return None

    def rephrase(organization, facts, causes, narrative, spec) -> dict:
        return rephrase_with(provider, facts, causes, narrative, spec)

    return rephrase


def rephrase_with(provider, facts: dict, causes: list[dict], narrative: str, spec: dict) -> dict:
    """Provenance fields of an insight after asking ``provider``; ``narrative`` changes only when accepted."""
    from apps.inventory.credentials import CredentialError, resolve_secret

    prompt = template(PROMPT)
    given = model_facts(facts, causes)
    fields = {"provider": provider.kind, "model": provider.model, "prompt_version": PROMPT}
    user = prompt["user"].format(
        facts=json.dumps(given, sort_keys=True, default=str), template=f"{spec['id']}.v{spec['version']}",
        draft=narrative,
    )  # fmt: skip
    started = time.monotonic()
    try:
        take_request(provider)
        secret = resolve_secret(provider.credential_ref) if provider.credential_ref else ""
        answer = call(provider, secret or "", system=prompt["system"], user=user)
    except LimitReached as exc:
        logger.warning("insights: model call skipped for %s: limit reached: %s", provider.organization_id, exc)
        return {**fields, "model_status": "limit_reached", "rejection": str(exc)}
    except pybreaker.CircuitBreakerError:
        return {**fields, "model_status": "unavailable", "rejection": "circuit open"}
    except CredentialError as exc:
        return {**fields, "model_status": "unavailable", "rejection": f"credential: {exc}"}
    except Exception as exc:  # noqa: BLE001 - any provider failure falls back to the deterministic text
        logger.warning("insights: model call failed for %s: %s", provider.organization_id, type(exc).__name__)
        return {**fields, "model_status": "unavailable", "rejection": f"{type(exc).__name__}: {exc}"[:500]}
    fields.update(
        latency_ms=int((time.monotonic() - started) * 1000), tokens_in=answer.tokens_in, tokens_out=answer.tokens_out
    )
    charge_tokens(provider, (answer.tokens_in or 0) + (answer.tokens_out or 0))
    text = answer.text.strip()
    offending = ungrounded(text, allowed_tokens(given, narrative)) if text else "(empty answer)"
    if offending is not None:
        logger.warning(
            "insights: model answer rejected for %s: offending token %r", provider.organization_id, offending
        )
        return {**fields, "model_status": "rejected", "rejection": f"not in the facts: {offending}"}
    return {**fields, "model_status": "accepted", "provenance": "model", "narrative": text}
