"""CSV straight from PostgreSQL: ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` with the Python writer's exact bytes.

The SELECT formats every cell the way ``csv_exports._cell`` does (formula prefixes quoted with ``'``, booleans
``true``/``false``, timestamps in UTC ISO 8601 with ``Z`` and microseconds only when non-zero, empty strings as NULL so
PostgreSQL leaves them unquoted like Python's ``csv`` does); PostgreSQL quotes exactly what ``csv.QUOTE_MINIMAL`` quotes
(the delimiter, the quote, CR, LF). The protocol sends one CopyData message per row, so each chunk is one row: only its
final ``\\n`` becomes ``\\r\\n`` (a line break inside a quoted value stays as Python writes it). One difference is
left: a value that is exactly ``\\.`` is quoted by PostgreSQL, not by Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection

FORMULA_PREFIXES_SQL = "('=', '+', '-', '@', chr(9), chr(13))"


@dataclass(frozen=True)
class CopySource:
    """A SELECT producing the export's cells as text, and its parameters (client-side bound)."""

    select: str
    params: dict = field(default_factory=dict)


def text(column: str) -> str:
    """A text column as ``_cell`` writes it: formula prefixes quoted, '' as NULL (unquoted)."""
    return f"CASE WHEN left({column}, 1) IN {FORMULA_PREFIXES_SQL} THEN '''' || {column} ELSE NULLIF({column}, '') END"


def stamp(column: str) -> str:
    """A timestamp as ``_cell`` writes it: UTC, ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN to_char({utc}, 'US') <> '000000' THEN '.' || to_char({utc}, 'US') ELSE '' END || 'Z'"
    )


def boolean(column: str) -> str:
    return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"


def available() -> bool:
    """COPY is used on PostgreSQL; elsewhere (SQLite, the embedded default) the Python writer streams."""
    return connection.vendor == "postgresql"


def copy_lines(header_line: bytes, source: CopySource) -> Iterator[bytes]:
    """The header line, then the rows exactly as PostgreSQL's COPY writes them, CRLF-terminated."""
    yield header_line
    statement = f"COPY ({source.select}) TO STDOUT (FORMAT csv)"
    with connection.cursor() as cursor, cursor.copy(statement, source.params) as copy:
        for chunk in copy:
            row = bytes(chunk)
            yield row[:-1] + b"\r\n" if row.endswith(b"\n") else row
