"""``webhook``: publishing an event queues one delivery per matching endpoint of its organisation.

The deliveries themselves (signing, retries, disabling) are ``services.webhooks.webhook_deliver_due``; the relay
runs it after every pass, so this transport's ``publish`` never waits on a subscriber's server.
"""

from __future__ import annotations

from .base import Outgoing, Transport, register_transport


@register_transport
class WebhookTransport(Transport):
    slug = "webhook"

    def publish(self, batch: list[Outgoing]) -> list[str]:
        from ..services.webhooks import deliveries_queue

        return [f"webhook/{deliveries_queue(event)}" for event in batch]
