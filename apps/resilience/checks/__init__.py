"""Drill health checks: one class per check type, registered by type (same shape as the provisioners)."""

from .base import BaseCheck, CheckContext, CheckOutcome, get_check, register_check, registered_checks

__all__ = [
    "BaseCheck",
    "CheckContext",
    "CheckOutcome",
    "get_check",
    "load_checks",
    "register_check",
    "registered_checks",
]


def load_checks() -> None:
    """Import the built-in checks once."""
    from . import builtin  # noqa: F401
