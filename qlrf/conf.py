"""The one place that reads ``QLRF_*`` environment variables. Every variable is listed in docs/configuration.md."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

PREFIX = "QLRF_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return ``QLRF_<name>`` or ``default``."""
    return os.environ.get(PREFIX + name, default)


def env_required(name: str) -> str:
    """Return ``QLRF_<name>`` or refuse to start with a message naming the variable."""
    value = os.environ.get(PREFIX + name)
    if not value:
        raise ImproperlyConfigured(f"{PREFIX}{name} must be set in this settings profile")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Return ``QLRF_<name>`` parsed as a boolean (1/true/yes/on, 0/false/no/off)."""
    raw = os.environ.get(PREFIX + name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name} must be a boolean, got {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return ``QLRF_<name>`` parsed as an integer."""
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return ``QLRF_<name>`` split on commas, blanks dropped."""
    raw = os.environ.get(PREFIX + name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]
