"""The shape every transport shares: ``publish`` a batch of envelopes, return where each one went."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import NamedTuple

REGISTRY: dict[str, type[Transport]] = {}


class TransportError(RuntimeError):
    """The batch was not (wholly) published; the relay keeps it pending and retries it.

    ``reason`` is a short, bounded label for the publish-error metric (``connection``, ``timeout``, ``response``, a
    librdkafka error name such as ``_msg_timed_out``); the message carries the detail."""

    def __init__(self, message: str, *, reason: str = "other"):
        super().__init__(message)
        self.reason = reason


class Outgoing(NamedTuple):
    """One event to publish: its routing fields and its CloudEvent in structured mode (``application/cloudevents+json``,
    the SDK's layout; see ``encoding.structured_join``)."""

    id: str
    organization: str
    type: str
    body: bytes
    replay: bool = False

    @property
    def envelope(self) -> dict:
        """The envelope as a dict (``OutboxEvent.envelope()`` with its sequence), for the binary encodings."""
        return json.loads(self.body)

    def structured(self) -> bytes:
        return self.body


class Transport(ABC):
    slug: str = ""
    # True when ``publish`` touches no database (the relay then runs it on its publishing thread, overlapping the
    # database work of the previous chunk); False keeps it inline, inside the relay's transaction.
    publish_in_thread: bool = False

    @abstractmethod
    def publish(self, batch: list[Outgoing]) -> list[str]:
        """Publish every event of ``batch`` (all or raise TransportError); return one position per event."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def register_transport(klass: type[Transport]) -> type[Transport]:
    if klass.slug in REGISTRY:
        raise ValueError(f"event transport {klass.slug!r} is registered twice")
    REGISTRY[klass.slug] = klass
    return klass
