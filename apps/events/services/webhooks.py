"""Webhooks: per-organisation endpoints, Standard Webhooks signatures, retries with backoff, then disabled.

A delivery POSTs the structured CloudEvent with the ``webhook-id`` (the event id), ``webhook-timestamp`` and
``webhook-signature`` headers of the Standard Webhooks specification, signed with the ``standardwebhooks`` library.
Any 2xx is success; anything else (3xx included: redirects are never followed), a timeout or a refused target is a
failed attempt, retried after ``base * 2^(attempt-1)`` seconds with jitter. After QLRF_WEBHOOK_MAX_FAILURES
consecutive failures the endpoint is disabled with the reason, visibly (admin, API), until someone re-enables it.
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import random
import secrets
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from ..encoding import structured, structured_headers
from ..models import OutboxEvent, WebhookDelivery, WebhookEndpoint

EXCERPT = 500


class WebhookTargetRefused(ValueError):
    """The URL points at loopback, private, link-local or the portal itself and the endpoint may not."""


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def type_matches(patterns: list[str], event_type: str) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


def target_check(url: str, *, allow_private: bool, resolve: bool = True) -> None:
    """Refuse URLs that are not http(s) or whose host is, or resolves to, a non-public address (SSRF), unless allowed.

    Saving an endpoint checks the literal host only (a name may resolve later); every delivery resolves it again, so
    a name re-pointed at an internal address afterwards is refused at delivery time.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused(f"{url!r} is not an http(s) URL")
    if allow_private or settings.QLRF_WEBHOOK_ALLOW_PRIVATE:
        return
    if parts.hostname in settings.ALLOWED_HOSTS or parts.hostname == "localhost":
        raise WebhookTargetRefused(f"{parts.hostname} is the portal's own host")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not literal.is_global:
        raise WebhookTargetRefused(f"{parts.hostname} is a non-public address")
    if not resolve or literal is not None:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise WebhookTargetRefused(f"{parts.hostname} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookTargetRefused(f"{parts.hostname} resolves to non-public address {address}")


def deliveries_queue(event, *, replay: bool = False) -> int:
    """Queue one delivery of ``event`` (an Outgoing or OutboxEvent) per enabled, matching endpoint; returns count."""
    organization = getattr(event, "organization_id", None)
    event_id = event.id
    if organization is None:
        organization = OutboxEvent.objects.values_list("organization_id", flat=True).get(pk=event_id)
    endpoints = WebhookEndpoint.objects.filter(organization_id=organization, disabled_at__isnull=True)
    rows = [
        WebhookDelivery(organization_id=organization, endpoint=endpoint, event_id=event_id, replay=replay or
                        getattr(event, "replay", False))
        for endpoint in endpoints
        if type_matches(endpoint.event_types, event.type)
    ]  # fmt: skip
    WebhookDelivery.objects.bulk_create(rows)
    return len(rows)


def signed_request(endpoint: WebhookEndpoint, event: OutboxEvent, *, replay: bool, now: datetime) -> tuple:
    body = structured(event.envelope(replay=replay))
    msg_id = str(event.id)
    signature = Webhook(endpoint.secret).sign(msg_id, now, body.decode())
    headers = {
        **structured_headers(),
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "user-agent": "qlrf-webhooks/1",
    }
    return body, headers


def backoff_seconds(attempt: int) -> float:
    base = settings.QLRF_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1)
    return min(base, 6 * 3600) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


def _attempt(delivery: WebhookDelivery, client: requests.Session) -> tuple[bool, int | None, str, str]:
    endpoint = delivery.endpoint
    try:
        target_check(endpoint.url, allow_private=endpoint.allow_private)
        body, headers = signed_request(endpoint, delivery.event, replay=delivery.replay, now=timezone.now())
        timeout = settings.QLRF_WEBHOOK_TIMEOUT_SECONDS
        response = client.post(endpoint.url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                               stream=True)  # fmt: skip
        excerpt = next(response.iter_content(EXCERPT * 4), b"").decode("utf-8", "replace")[:EXCERPT]
        response.close()
    except WebhookTargetRefused as exc:
        return False, None, f"refused target: {exc}", ""
    except requests.Timeout:
        return False, None, f"timed out after {settings.QLRF_WEBHOOK_TIMEOUT_SECONDS}s", ""
    except requests.RequestException as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:EXCERPT], ""
    if 200 <= response.status_code < 300:
        return True, response.status_code, "", excerpt
    if 300 <= response.status_code < 400:
        return False, response.status_code, f"redirect to {response.headers.get('location', '?')} not followed", ""
    return False, response.status_code, f"HTTP {response.status_code}", excerpt


def webhook_deliver_due(*, limit: int = 200) -> dict[str, int]:
    """Attempt the deliveries that are due; returns counts by outcome (delivered, retry, failed)."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .select_related("endpoint", "event", "event__organization")
        .order_by("next_attempt_at", "created_at")[:limit]
    )
    with requests.Session() as client:
        for delivery in due:
            if delivery.endpoint.disabled_at is not None:
                continue
            ok, status, error, excerpt = _attempt(delivery, client)
            counts[_record(delivery, ok, status, error, excerpt)] += 1
    return counts


@transaction.atomic
def _record(delivery: WebhookDelivery, ok: bool, status: int | None, error: str, excerpt: str) -> str:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_status_code = status
    delivery.last_error = error[:EXCERPT]
    delivery.response_excerpt = excerpt
    now = timezone.now()
    if ok:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        endpoint.failure_count = 0
        outcome = "delivered"
    else:
        endpoint.failure_count += 1
        if endpoint.failure_count >= settings.QLRF_WEBHOOK_MAX_FAILURES:
            endpoint.disabled_at = now
            endpoint.disabled_reason = f"disabled after {endpoint.failure_count} consecutive failures; last: {error}"[
                :300
            ]
            delivery.status = WebhookDelivery.Status.FAILED
            outcome = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
            outcome = "retry"
    delivery.save()
    endpoint.save(update_fields=["failure_count", "disabled_at", "disabled_reason"])
    return outcome


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Re-enable a disabled endpoint: the failure run restarts and its failed deliveries are queued again."""
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failure_count = 0
    endpoint.save(update_fields=["failure_count", "disabled_at", "disabled_reason"])
    endpoint.deliveries.filter(status=WebhookDelivery.Status.FAILED).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    return endpoint
