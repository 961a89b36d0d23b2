"""``none``: events are only sequenced and stay queryable through the pull API (the embedded default)."""

from .base import Outgoing, Transport, register_transport


@register_transport
class NoneTransport(Transport):
    slug = "none"

    def publish(self, batch: list[Outgoing]) -> list[str]:
        return ["" for _ in batch]
