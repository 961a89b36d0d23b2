"""Check a pack against its own index.json: every member's size and SHA-256, nothing missing, nothing unlisted."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .writer import INDEX

CHUNK = 1024 * 1024
CORRUPT = "corrupt_archive"
# What reading a damaged member raises: bad CRC / truncated entry (BadZipFile), broken deflate data (zlib.error, which
# is neither an OSError nor a BadZipFile), data ending early (EOFError), an unsupported method (NotImplementedError).
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, ValueError)


@dataclass
class Verification:
    """The outcome: members checked and one line per problem (empty when the pack is intact)."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    code: str = ""  # "corrupt_archive" when the ZIP itself cannot be read (then ``problems`` has that one line)
    member: str = ""  # the member that could not be read, if any

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _reason(exc: BaseException) -> str:
    """A fixed description of why a member cannot be read (never the zlib or zipfile wording)."""
    if isinstance(exc, zlib.error):
        return "its compressed data is damaged"
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in str(exc):
        return "its CRC-32 does not match its data"
    if isinstance(exc, EOFError | zipfile.BadZipFile):
        return "its data is truncated or its header is damaged"
    return "it cannot be read"


def _corrupt(result: Verification, name: str, exc: BaseException) -> Verification:
    result.code, result.member = CORRUPT, name
    result.problems = [f"{CORRUPT}: member {name}: {_reason(exc)}"]
    return result


class _Corrupt(Exception):
    def __init__(self, name: str, exc: BaseException) -> None:
        super().__init__(name)
        self.name, self.exc = name, exc


def _index(archive: zipfile.ZipFile, result: Verification) -> dict | None:
    try:
        raw = archive.read(INDEX)
    except KeyError:
        result.problems.append(f"{INDEX}: missing")
        return None
    except _READ_ERRORS as exc:
        raise _Corrupt(INDEX, exc) from exc
    try:
        index = json.loads(raw)
    except ValueError as exc:
        result.problems.append(f"{INDEX}: not valid JSON ({exc})")
        return None
    if not isinstance(index, dict) or not isinstance(index.get("members"), list):
        result.problems.append(f"{INDEX}: has no members list")
        return None
    return index


def pack_verify(path: Path | str) -> Verification:
    """Verify the ZIP at ``path``; a file that is not a ZIP, or a member that cannot be read, is one problem with the
    stable code ``corrupt_archive`` (and the member), never an exception."""
    result = Verification()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        result.code = CORRUPT
        detail = "file not found" if isinstance(exc, FileNotFoundError) else "no ZIP central directory"
        result.problems.append(f"{CORRUPT}: {path}: not a readable ZIP ({detail})")
        return result
    try:
        with archive:
            return _check(archive, result)
    except _Corrupt as corrupt:
        return _corrupt(result, corrupt.name, corrupt.exc)


def _check(archive: zipfile.ZipFile, result: Verification) -> Verification:
    index = _index(archive, result)
    if index is None:
        return result
    present = {info.filename for info in archive.infolist()} - {INDEX}
    listed = set()
    for entry in index["members"]:
        name = entry.get("path", "")
        listed.add(name)
        if name not in present:
            result.problems.append(f"{name}: listed in {INDEX} but missing from the pack")
            continue
        try:
            sha256, size = _digest(archive, name)
        except _READ_ERRORS as exc:  # a corrupted member (bad CRC, broken deflate stream, truncated data)
            raise _Corrupt(name, exc) from exc
        result.checked += 1
        if size != entry.get("size"):
            result.problems.append(f"{name}: size {size} != {entry.get('size')} in {INDEX}")
        if sha256 != entry.get("sha256"):
            result.problems.append(f"{name}: sha256 {sha256} != {entry.get('sha256')} in {INDEX}")
    for name in sorted(present - listed):
        result.problems.append(f"{name}: in the pack but not listed in {INDEX}")
    return result
