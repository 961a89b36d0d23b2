"""``rf``, the Resilience Fabric client: remote through the REST API with a token, or local on the server.

This package imports neither Django nor the server's apps at module level, so ``pipx install`` of the client gives a
working ``rf`` without the server's dependencies (ADR 024). Local mode imports Django only when it is chosen.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
