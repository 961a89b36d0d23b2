"""Version order per family, by the scheme the family declares — never string order, never two versions equal.

Schemes (the contract's ``identity.version_scheme``, kept on the family):

- ``semver``: Semantic Versioning 2.0.0 (the ``semver`` package): a pre-release orders below its release; build
  metadata is kept but does not order (``1.0.0+a`` and ``1.0.0+b`` are *equal*, so the second is refused).
- ``pep440``: Python's version specification (``packaging``): ``1.10.0.post1`` > ``1.10.0`` > ``1.10.0rc1``;
  ``1.0`` equals ``1.0.0``.
- ``calver``: calver.org's forms — a year (``YYYY``, ``YY``, ``0Y``) then up to five numeric parts (``MM``, ``DD``,
  minor, micro), optionally ``-N`` for a rebuild — compared part by part as numbers (``2024.06.1`` = ``2024.6.1``).
- ``debian``: ``[epoch:]upstream[-revision]`` with dpkg's rules (``python-debian``): ``1:1.0-1`` > ``2.0-1``,
  ``1.10.0-2`` > ``1.10.0-1``, ``1.0~rc1`` < ``1.0``.

The database orders versions by ``ImageVersion.version_key``: each family's versions ranked by the scheme's reference
comparison and stored as a zero-padded rank, recomputed for the whole family in the registration transaction (ADR 011).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import semver
from debian.debian_support import Version as DebianVersion
from packaging.version import InvalidVersion
from packaging.version import Version as Pep440Version

SCHEMES = ("semver", "pep440", "calver", "debian")
DEFAULT_SCHEME = "semver"
MAX_LENGTH = 64
_CALVER = re.compile(r"(?P<year>\d{1,4})\.(?P<rest>\d{1,9}(?:\.\d{1,9}){0,4})(?:-(?P<build>\d{1,9}))?")
_DEBIAN = re.compile(r"(?:\d+:)?[0-9][A-Za-z0-9.+~-]*(?:-[A-Za-z0-9.+~]+)?")


class VersionFormatError(ValueError):
    """The version string is not a version of the family's scheme."""


def _calver(text: str) -> tuple[int, ...]:
    """calver.org's forms: a year (YYYY, YY or 0Y) then 1-5 numeric parts (month, day, minor, micro), ``-N`` rebuild."""
    match = _CALVER.fullmatch(text)
    if match is None:
        raise VersionFormatError(f"{text!r} is not a calendar version (YYYY.MM[.DD][.MICRO][-N], numbers only)")
    parts = [int(match["year"]), *(int(p) for p in match["rest"].split("."))]
    return (*parts, *([0] * (6 - len(parts))), int(match["build"] or 0))


def parse_version(scheme: str, text: str):
    """The scheme's comparable value for ``text``; ``VersionFormatError`` when it is not a version of the scheme."""
    if not isinstance(text, str) or not text or len(text) > MAX_LENGTH or text != text.strip():
        raise VersionFormatError(f"{text!r} is not a version (1 to {MAX_LENGTH} characters, no spaces)")
    if scheme == "semver":
        try:
            return semver.Version.parse(text)
        except ValueError:
            raise VersionFormatError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build])") from None
    if scheme == "pep440":
        try:
            return Pep440Version(text)
        except InvalidVersion:
            raise VersionFormatError(f"{text!r} is not a PEP 440 version") from None
    if scheme == "calver":
        return _calver(text)
    if scheme == "debian":
        if not _DEBIAN.fullmatch(text):
            raise VersionFormatError(f"{text!r} is not a Debian version ([epoch:]upstream[-revision])")
        try:
            return DebianVersion(text)
        except ValueError:
            raise VersionFormatError(f"{text!r} is not a Debian version") from None
    raise VersionFormatError(f"unknown version scheme {scheme!r} (one of {', '.join(SCHEMES)})")


def compare(scheme: str, left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` orders below, equal to or above ``right`` under ``scheme``."""
    a, b = parse_version(scheme, left), parse_version(scheme, right)
    return (a > b) - (a < b)


def ranked(scheme: str, versions: Iterable[str]) -> list[str]:
    """``versions`` from lowest to highest under ``scheme`` (ties keep their given order)."""
    parsed = {text: parse_version(scheme, text) for text in versions}
    return sorted(parsed, key=functools.cmp_to_key(lambda a, b: (parsed[a] > parsed[b]) - (parsed[a] < parsed[b])))


def equal_to(scheme: str, version: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` (a different string) that orders equal to ``version``, if any."""
    mine = parse_version(scheme, version)
    for other in others:
        if other != version:
            try:
                theirs = parse_version(scheme, other)
            except VersionFormatError:
                continue
            if not (mine < theirs or mine > theirs):
                return other
    return None


def rank_key(rank: int) -> str:
    """The stored ``version_key`` of the ``rank``-th lowest version of a family (fixed width: string order = rank)."""
    return f"r{rank:09d}"


def scheme_for(versions: Iterable[str], preferred: str = DEFAULT_SCHEME) -> str:
    """``preferred`` when every version parses under it, else the first scheme that parses them all (migrations)."""
    versions = list(versions)
    for scheme in (preferred, *SCHEMES):
        try:
            for text in versions:
                parse_version(scheme, text)
        except VersionFormatError:
            continue
        return scheme
    return "debian"  # the most permissive; a version it refuses is reported at its next registration
