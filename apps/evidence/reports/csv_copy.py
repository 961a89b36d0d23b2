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

BLOCK = 64 * 1024  # bytes per streamed chunk: one per row would cost a generator step and a write each
FORMULA_CODES = "(61, 43, 45, 64, 9, 13)"  # = + - @ TAB CR: csv_exports.FORMULA_PREFIXES as code points


@dataclass(frozen=True)
class CopySource:
    """A SELECT producing the export's cells as text, and its parameters (client-side bound)."""

    select: str
    params: dict = field(default_factory=dict)


def text(column: str) -> str:
    """A text column as ``_cell`` writes it: formula prefixes quoted, '' as NULL (unquoted)."""
    quoted = "'''' || " + column
    return f"CASE WHEN {column} = '' THEN NULL WHEN ascii({column}) IN {FORMULA_CODES} THEN {quoted} ELSE {column} END"


def stamp(column: str) -> str:
    """A timestamp as ``_cell`` writes it: UTC, ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (one ``to_char``, the cheapest)."""
    return f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"


def days_since(at_parameter: str, column: str) -> str:
    """Whole days from ``column`` to the instant parameter, never negative: Python's ``max(0, delta.days)``.

    A ``timestamptz`` difference is an interval of days and time (24 h make a day), so its day field is the floor.
    """
    return f"GREATEST(0, date_part('day', %({at_parameter})s - {column}))::bigint"


def boolean(column: str) -> str:
    return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"


def available() -> bool:
    """COPY is used on PostgreSQL; elsewhere (SQLite, the embedded default) the Python writer streams."""
    return connection.vendor == "postgresql"


def copy_lines(header_line: bytes, source: CopySource) -> Iterator[bytes]:
    """The header line, then the rows exactly as PostgreSQL's COPY writes them, CRLF-terminated, in ~64 KB blocks."""
    yield header_line
    statement = f"COPY ({source.select}) TO STDOUT (FORMAT csv)"
    block = bytearray()
    with connection.cursor() as cursor, cursor.copy(statement, source.params) as copy:
        for row in copy:  # one CopyData message: one row, ending in \n
            block += row[:-1]
            block += b"\r\n"
            if len(block) >= BLOCK:
                yield bytes(block)
                block.clear()
    if block:
        yield bytes(block)
