"""The deterministic ZIP: members in a fixed order, fixed timestamps (1980-01-01) and permissions, index.json last.

Everything that varies between two runs over the same data (generation time, temporary names, the user) stays out
of the bytes, so the same scope over the same records gives a byte-identical ZIP with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import qlrf

from .members import Member, iso
from .scope import PackScope

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
INDEX = "index.json"
GENERATOR = "qlrf (Resilience Fabric)"


class SizeExceeded(Exception):
    """The ZIP grew past the limit while being written; ``written`` is how far it got."""

    def __init__(self, written: int, limit: int):
        super().__init__(f"the evidence pack exceeds {limit} bytes (stopped at {written})")
        self.written = written
        self.limit = limit


class DigestMismatch(Exception):
    """A stored original no longer matches the SHA-256 recorded when it was uploaded."""


def _info(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = FILE_MODE
    return info


def _write_member(archive: zipfile.ZipFile, fh, member: Member, limit: int) -> dict:
    digest, size = hashlib.sha256(), 0
    with archive.open(_info(member.path), mode="w") as out:
        for chunk in member.chunks():
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            if fh.tell() > limit:
                raise SizeExceeded(fh.tell(), limit)
    sha256 = digest.hexdigest()
    if member.expected_sha256 and sha256 != member.expected_sha256:
        recorded = member.expected_sha256
        raise DigestMismatch(f"{member.path}: the stored original's SHA-256 is {sha256}, recorded {recorded}")
    return {
        "path": member.path,
        "media_type": member.media_type,
        "size": size,
        "sha256": sha256,
        "source": member.source,
        "effective_at": iso(member.effective_at),
    }


def index_document(scope: PackScope, entries: list[dict]) -> dict:
    """What index.json says: generator, version, organisation, filters, as-of moment, and every member."""
    organization = scope.organization
    return {
        "generator": GENERATOR,
        "version": qlrf.__version__,
        "organization": {"slug": organization.slug, "name": organization.name},
        "filters": scope.filters(),
        "as_of": scope.as_of_label,
        "empty": not entries,
        "member_count": len(entries),
        "members": entries,
    }


def pack_write(
    path: Path, scope: PackScope, members: list[Member], *, limit: int, progress: Callable[[int], None] | None = None
) -> dict:
    """Write the pack to ``path`` (a temporary file); returns the index. SizeExceeded past ``limit`` bytes."""
    entries = []
    with open(path, "wb") as fh, zipfile.ZipFile(fh, mode="w") as archive:
        for position, member in enumerate(members, start=1):
            entries.append(_write_member(archive, fh, member, limit))
            if progress is not None:
                progress(int(95 * position / len(members)))
        index = index_document(scope, entries)
        data = (json.dumps(index, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
        archive.writestr(_info(INDEX), data)
    if path.stat().st_size > limit:
        raise SizeExceeded(path.stat().st_size, limit)
    return index
