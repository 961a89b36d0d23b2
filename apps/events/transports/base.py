"""The shape every transport shares: ``publish`` a batch of envelopes, return where each one went."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

REGISTRY: dict[str, type[Transport]] = {}


class TransportError(RuntimeError):
    """The batch was not (wholly) published; the relay rolls back and retries it."""


@dataclass(frozen=True)
class Outgoing:
    id: str
    organization: str
    type: str
    envelope: dict
    replay: bool = False


class Transport(ABC):
    slug: str = ""

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
