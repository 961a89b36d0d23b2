"""``rf evidence-pack verify`` on a damaged ZIP: one line with the stable code ``corrupt_archive`` and the member."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from apps.evidence.pack.verify import pack_verify
from qlrf.cli import main

BODY = b"hostname,image,version\n" * 400  # compressible: deflate output long enough to damage in the middle


def _pack(method: int) -> bytes:
    buffer = io.BytesIO()
    index = {"members": [{"path": "drift/summary.csv", "size": len(BODY), "sha256": hashlib.sha256(BODY).hexdigest()}]}
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("index.json", json.dumps(index))
        archive.writestr("drift/summary.csv", BODY)
    return buffer.getvalue()


def _damage(data: bytes, member: str) -> bytes:
    """Overwrite bytes in the middle of ``member``'s stored data (its local header and the directory stay intact)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 8]) + data[middle + 8 :]


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (zipfile.ZIP_DEFLATED, None),  # broken deflate stream (zlib.error) or a CRC mismatch, whichever comes first
        (zipfile.ZIP_STORED, "its CRC-32 does not match its data"),
    ],
)
def test_a_damaged_member_is_one_line_with_corrupt_archive(tmp_path, capsys, method, reason):
    path = tmp_path / "pack.zip"
    path.write_bytes(_pack(method))
    assert pack_verify(path).ok
    path.write_bytes(_damage(path.read_bytes(), "drift/summary.csv"))
    result = pack_verify(path)
    assert (result.code, result.member, len(result.problems)) == ("corrupt_archive", "drift/summary.csv", 1)
    if reason:
        assert result.problems[0].endswith(reason)
    assert main(["evidence-pack", "verify", str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [f"rf: error: {result.problems[0]}"]
    assert lines[0].startswith("rf: error: corrupt_archive: member drift/summary.csv: ")
    assert lines[0].count("error:") == 1
    assert "Error -3" not in captured.err and "zlib" not in captured.err and "Bad CRC" not in captured.err


def test_a_damaged_index_is_corrupt_archive_too(tmp_path):
    path = tmp_path / "pack.zip"
    path.write_bytes(_damage(_pack(zipfile.ZIP_STORED), "index.json"))
    result = pack_verify(path)
    assert (result.code, result.member) == ("corrupt_archive", "index.json")


def test_a_truncated_file_is_corrupt_archive(tmp_path, capsys):
    path = tmp_path / "pack.zip"
    path.write_bytes(_pack(zipfile.ZIP_DEFLATED)[:200])
    assert main(["evidence-pack", "verify", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rf: error: corrupt_archive: ") and "not a readable ZIP" in err[0]
