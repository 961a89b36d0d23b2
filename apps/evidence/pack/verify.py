"""Check a pack against its own index.json: every member's size and SHA-256, nothing missing, nothing unlisted."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .writer import INDEX

CHUNK = 1024 * 1024


@dataclass
class Verification:
    """The outcome: members checked and one line per problem (empty when the pack is intact)."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

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


def _index(archive: zipfile.ZipFile, result: Verification) -> dict | None:
    try:
        index = json.loads(archive.read(INDEX))
    except KeyError:
        result.problems.append(f"{INDEX}: missing")
        return None
    except ValueError as exc:
        result.problems.append(f"{INDEX}: not valid JSON ({exc})")
        return None
    if not isinstance(index, dict) or not isinstance(index.get("members"), list):
        result.problems.append(f"{INDEX}: has no members list")
        return None
    return index


def pack_verify(path: Path | str) -> Verification:
    """Verify the ZIP at ``path``; a file that is not a ZIP is one problem, not an exception."""
    result = Verification()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        result.problems.append(f"{path}: not a readable ZIP ({exc})")
        return result
    with archive:
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
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a corrupted member (bad CRC, truncated data)
                result.problems.append(f"{name}: unreadable ({exc})")
                continue
            result.checked += 1
            if size != entry.get("size"):
                result.problems.append(f"{name}: size {size} != {entry.get('size')} in {INDEX}")
            if sha256 != entry.get("sha256"):
                result.problems.append(f"{name}: sha256 {sha256} != {entry.get('sha256')} in {INDEX}")
        for name in sorted(present - listed):
            result.problems.append(f"{name}: in the pack but not listed in {INDEX}")
    return result
