"""JSON Schema side of contract validation: the schema registry, schema choice by kind, readable faults."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from apps.images.contract_types import ContractFault, join_pointer

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
SCHEMA_FILES = {
    "ImageContract": "image.contract.schema.json",
    "WindowsImageContract": "image.contract.windows.schema.json",
}
KINDS = tuple(SCHEMA_FILES)

_CODES = {
    "required": "missing_key",
    "additionalProperties": "unknown_key",
    "type": "wrong_type",
    "enum": "bad_enum",
    "const": "bad_enum",
    "format": "bad_format",
    "pattern": "pattern_mismatch",
    "propertyNames": "pattern_mismatch",  # the key broke a keyword (pattern) inside propertyNames
    "minimum": "out_of_range",
    "maximum": "out_of_range",
    "exclusiveMinimum": "out_of_range",
    "exclusiveMaximum": "out_of_range",
    "minLength": "bad_length",
    "maxLength": "bad_length",
    "minItems": "bad_length",
    "maxItems": "bad_length",
    "minProperties": "bad_length",
    "maxProperties": "bad_length",
    "uniqueItems": "not_unique",
}
_REQUIRED_RE = re.compile(r"^'(?P<name>.*)' is a required property$")


@cache
def schema_registry() -> Registry:
    """All contract schemas under contracts/schemas, keyed by their $id, for offline $ref resolution."""
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def schema_for_kind(kind: str) -> dict[str, Any]:
    """The JSON Schema document that validates contracts of this kind."""
    return json.loads((SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


@cache
def validator_for_kind(kind: str) -> Draft202012Validator:
    """A draft 2020-12 validator for this kind, with format checking (dates) and the shared registry."""
    return Draft202012Validator(
        schema_for_kind(kind),
        registry=schema_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_faults(document: Any, kind: str, lines: dict[str, int]) -> list[ContractFault]:
    """Every schema violation of document as a fault with its JSON pointer and YAML line."""
    return validator_faults(validator_for_kind(kind), document, lines)


def validator_faults(validator: Draft202012Validator, document: Any, lines: dict[str, int]) -> list[ContractFault]:
    """Every violation of ``validator``'s schema as a fault with its JSON pointer and YAML line (other contracts,
    such as drill definitions, report their faults exactly like image contracts)."""
    faults: list[ContractFault] = []
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        faults.extend(_error_faults(error, lines))
    return faults


def _error_faults(error: ValidationError, lines: dict[str, int]) -> Iterator[ContractFault]:
    pointer = join_pointer(error.absolute_path)
    code = _CODES.get(str(error.validator), "schema_violation")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        yield from _unknown_key_faults(error, pointer, lines)
        return
    if "propertyNames" in error.relative_schema_path:
        yield from _property_name_faults(error, pointer, lines)
        return
    yield ContractFault(pointer=pointer, line=line_for(pointer, lines), message=_message(error), code=code)


def _unknown_key_faults(error: ValidationError, pointer: str, lines: dict[str, int]) -> Iterator[ContractFault]:
    """One fault per unexpected key, pointing at the key itself."""
    allowed = list(error.schema.get("properties", {}))
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    for key in error.instance:
        if key in allowed or any(p.search(key) for p in patterns):
            continue
        child = join_pointer([*error.absolute_path, key])
        message = f"unknown key {key!r}; allowed keys: {', '.join(allowed)}"
        yield ContractFault(pointer=child, line=line_for(child, lines), message=message, code="unknown_key")


def _property_name_faults(error: ValidationError, pointer: str, lines: dict[str, int]) -> Iterator[ContractFault]:
    """propertyNames errors carry the bad key as their instance: point at that key."""
    child = join_pointer([*error.absolute_path, error.instance])
    message = f"key {_json(error.instance)} does not match pattern {error.validator_value}"
    yield ContractFault(pointer=child, line=line_for(child, lines), message=message, code=_CODES["propertyNames"])


def line_for(pointer: str, lines: dict[str, int]) -> int | None:
    """The YAML line of pointer, or of its closest recorded ancestor."""
    current = pointer
    while True:
        if current in lines:
            return lines[current]
        if not current:
            return None
        current = current.rsplit("/", 1)[0]


def _json(value: Any, limit: int | None = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _message(error: ValidationError) -> str:
    """A readable message with JSON-style values (true, "text") instead of Python reprs."""
    value, instance = error.validator_value, error.instance
    match error.validator:
        case "required":
            found = _REQUIRED_RE.match(error.message)
            return f"missing required key {found['name']!r}" if found else error.message
        case "enum":
            return f"{_json(instance)} is not one of {_json(value, None)}"
        case "const":
            return f"{_json(instance)} is not {_json(value, None)}"
        case "type":
            return f"{_json(instance)} is not of type {_json(value, None)}"
        case "format":
            return f"{_json(instance)} is not a valid {value}"
        case "pattern":
            return f"{_json(instance)} does not match pattern {value}"
        case "minimum":
            return f"{_json(instance)} is less than the minimum of {value}"
        case "maximum":
            return f"{_json(instance)} is greater than the maximum of {value}"
        case "minLength":
            return f"{_json(instance)} is shorter than {value} characters"
        case "minItems":
            return f"expected at least {value} item(s), got {len(instance)}"
        case "uniqueItems":
            return "items must be unique"
    return error.message
