"""JSON Schema faults in linear time, shared by the SBOM formats validated against their official schemas (ADR 019).

The schemas are compiled once per spec version with ``jsonschema-rs``, which checks ``uniqueItems`` by hashing and runs
the whole schema in native code (``jsonschema``'s pairwise ``uniqueItems`` took 71 s for 4,000 components).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import jsonschema_rs

MAX_ERRORS = 1000  # a document with more faults than this is reported by its first thousand


@dataclass(frozen=True)
class SchemaFault:
    """One place where a document departs from its schema."""

    path: tuple[str | int, ...]  # the instance path (JSON pointer segments)
    rule: str  # the schema keyword that failed (type, enum, required, uniqueItems, additionalProperties, ...)
    message: str
    names: tuple[str, ...] = ()  # for required / additionalProperties: the missing or unexpected property names


def iter_faults(
    validator: jsonschema_rs.Validator, document: object, *, limit: int | None = MAX_ERRORS
) -> Iterator[SchemaFault]:
    """Yield the document's departures from the validator's schema (at most ``limit``; ``None``: every one)."""
    for count, error in enumerate(validator.iter_errors(document)):
        if limit is not None and count >= limit:
            return
        rule = str(error.schema_path[-1]) if error.schema_path else "schema"
        path = tuple(error.instance_path)
        if rule == "uniqueItems" and isinstance(error.instance, list):
            first, again = _first_duplicate(error.instance)
            yield SchemaFault(path + (again,), rule, f"item {again} repeats item {first}; the items must be unique")
        else:
            yield SchemaFault(path, rule, _shorten(error.message), _names(error.kind))


def _names(kind: object) -> tuple[str, ...]:
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return (str(kind.property),)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return tuple(str(name) for name in kind.unexpected)
    return ()


def _first_duplicate(items: list) -> tuple[int, int]:
    """Indexes of the first item seen again and its repeat, by hashing a canonical encoding (linear)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if key in seen:
            return seen[key], index
        seen[key] = index
    return 0, 0  # not reached: the validator found a repeat


def _shorten(message: str, limit: int = 300) -> str:
    """A message quotes the offending value; a huge value is cut so the error stays one readable line."""
    return message if len(message) <= limit else f"{message[: limit - 1]}…"
