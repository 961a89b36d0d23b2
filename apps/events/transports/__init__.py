"""Event transports, one module each (redis, kafka, webhook, none), registered by slug like the connectors."""

from __future__ import annotations

from django.conf import settings

from . import kafka, none, redis, webhook  # noqa: F401 - registration side effect
from .base import REGISTRY, Outgoing, Transport, TransportError, register_transport


def transport_get(slug: str | None = None) -> Transport:
    """A ready transport for ``slug`` (default: QLRF_EVENTS_TRANSPORT); unknown slugs raise ValueError."""
    slug = slug or settings.QLRF_EVENTS_TRANSPORT
    try:
        klass = REGISTRY[slug]
    except KeyError:
        raise ValueError(f"unknown event transport {slug!r}; expected one of {', '.join(sorted(REGISTRY))}") from None
    return klass()


__all__ = ["REGISTRY", "Outgoing", "Transport", "TransportError", "register_transport", "transport_get"]
