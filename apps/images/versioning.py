"""Version ordering that is never string order: semantic versions (1.10.0 > 1.9.2) and date versions (2024.06.1)."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_WIDTH = 10
_PARTS = 5


class VersionFormatError(ValueError):
    """The version string is neither a semantic nor a calendar version."""


def version_sort_key(version: str) -> str:
    """A fixed-width string whose lexical order is the versions' real order (stored for SQL ``ORDER BY``).

    Release numbers are zero-padded; a pre-release (``1.2.0-rc.1``) sorts before its release.
    """
    text = version.strip()
    if not text or len(text) > 64 or not re.fullmatch(r"v?[0-9][0-9A-Za-z.+\-]*", text):
        raise VersionFormatError(f"{version!r} is not a semantic or date version")
    try:
        parsed = Version(text)
    except InvalidVersion:
        raise VersionFormatError(f"{version!r} is not a semantic or date version") from None
    release = list(parsed.release[:_PARTS]) + [0] * (_PARTS - len(parsed.release[:_PARTS]))
    if any(part >= 10**_WIDTH for part in release):
        raise VersionFormatError(f"{version!r} has a component too large to order")
    head = ".".join(f"{part:0{_WIDTH}d}" for part in release)
    if parsed.pre is not None:
        tail = f"0{parsed.pre[0]}{parsed.pre[1]:0{_WIDTH}d}"
    elif parsed.dev is not None:
        tail = f"0.dev{parsed.dev:0{_WIDTH}d}"
    else:
        tail = "1"
    return f"{head}~{tail}"
