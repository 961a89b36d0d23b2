"""CycloneDX JSON schema validation in linear time (ADR 019).

cyclonedx-python-lib ships the official schemas and validates with ``jsonschema``, whose ``uniqueItems`` compares every
pair of array items: 4,000 components took 71 s and 60,000 killed a worker. The same official schema files (and the
SPDX licence, JSF and cryptography-definition schemas they reference) are compiled here once per spec version with
``jsonschema-rs``, which checks ``uniqueItems`` by hashing and runs the whole schema in native code: 100,000
components validate in a fraction of the time ``json.loads`` takes to read them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass

import jsonschema_rs
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON

_SCHEMA_PREFIX = "http://cyclonedx.org/schema/"
_REFERENCED = (
    ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
    ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
    ("jsf-0.82.SNAPSHOT.schema.json", JSF),
)
MAX_ERRORS = 1000  # a document with more faults than this is reported by its first thousand


@dataclass(frozen=True)
class SchemaFault:
    """One place where a document departs from the CycloneDX JSON schema."""

    path: tuple[str | int, ...]  # the instance path (JSON pointer segments)
    rule: str  # the schema keyword that failed (type, enum, required, uniqueItems, ...)
    message: str


@functools.cache
def _validator(version: str) -> jsonschema_rs.Validator:
    schema_file = BOM_JSON[SchemaVersion.from_version(version)]
    with open(schema_file, encoding="utf-8") as fh:
        schema = json.load(fh)
    resources = []
    for name, path in _REFERENCED:
        with open(path, encoding="utf-8") as fh:
            resources.append((_SCHEMA_PREFIX + name, json.load(fh)))
    return jsonschema_rs.validator_for(schema, registry=jsonschema_rs.Registry(resources), validate_formats=True)


def schema_faults(document: object, version: str) -> Iterator[SchemaFault]:
    """Yield the document's departures from the schema of ``version`` (at most ``MAX_ERRORS``)."""
    for count, error in enumerate(_validator(version).iter_errors(document)):
        if count >= MAX_ERRORS:
            return
        rule = str(error.schema_path[-1]) if error.schema_path else "schema"
        path = tuple(error.instance_path)
        if rule == "uniqueItems" and isinstance(error.instance, list):
            first, again = _first_duplicate(error.instance)
            yield SchemaFault(path + (again,), rule, f"item {again} repeats item {first}; the items must be unique")
        else:
            yield SchemaFault(path, rule, _shorten(error.message))


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
