"""Temporary files that become stored files only when complete (nothing half-written is ever left behind)."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

CHUNK = 1024 * 1024


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private temporary directory, removed with everything in it on success and on error."""
    path = Path(tempfile.mkdtemp(prefix="qlrf-evidence-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def file_sha256(path: Path) -> tuple[str, int]:
    """(hex SHA-256, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def store_complete(path: Path, name: str) -> str:
    """Move a finished file into storage under ``name`` (content-addressed: an existing name is reused)."""
    if default_storage.exists(name):
        return name
    try:
        with open(path, "rb") as fh:
            return default_storage.save(name, File(fh, name=Path(name).name))
    except BaseException:
        if default_storage.exists(name):  # a copy cut short (disk full, interrupted) is never left behind
            default_storage.delete(name)
        raise
