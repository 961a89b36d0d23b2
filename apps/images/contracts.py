"""Validate golden image contracts (contracts/*.yaml) against their JSON Schemas and semantic rules.

Pure Python (no Django): safe YAML loading with line numbers, schema chosen by `kind`, faults carrying a JSON
pointer, a YAML line and a stable code, and a sha256 digest of the canonical JSON of the document.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from apps.images.contract_rules import semantic_faults
from apps.images.contract_schema import KINDS, line_for, schema_faults
from apps.images.contract_types import ContractFault, ContractValidation
from apps.images.contract_yaml import parse_contract_yaml

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KINDS",
    "ContractFault",
    "ContractValidation",
    "canonical_digest",
    "format_fault",
    "validate_contract",
    "validate_contract_file",
]

DEFAULT_MAX_BYTES = 256 * 1024


def canonical_digest(document: Any) -> str:
    """sha256 of the canonical JSON (sorted keys, no whitespace, UTF-8) of a contract document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_contract(
    data: bytes | str,
    *,
    filename: str = "<input>",
    today: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ContractValidation:
    """Validate one contract document; never raises on bad input, every problem becomes a fault."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        message = f"contract is {len(raw)} bytes, more than the limit of {max_bytes}"
        return _rejected(filename, "", 1, message, "too_large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return _rejected(filename, "", line, f"contract is not valid UTF-8 (byte {exc.start})", "invalid_encoding")
    parsed = parse_contract_yaml(text)
    if parsed.fatal:
        return ContractValidation(False, None, None, "", parsed.faults, filename)
    document, faults = parsed.document, list(parsed.faults)
    if not isinstance(document, dict):
        faults.append(ContractFault("", line_for("", parsed.lines), "a contract must be a YAML mapping", "wrong_type"))
        return ContractValidation(False, None, None, "", faults, filename)
    kind = document.get("kind")
    kind_fault = _kind_fault(kind, parsed.lines)
    if kind_fault is not None:
        faults.append(kind_fault)
    else:
        faults.extend(schema_faults(document, kind, parsed.lines))
    faults.extend(semantic_faults(document, parsed.lines, today or date.today()))
    faults.sort(key=lambda fault: (fault.line or 0, fault.pointer))
    return ContractValidation(
        valid=not faults,
        kind=kind if isinstance(kind, str) else None,
        document=document,
        digest=canonical_digest(document),
        faults=faults,
        filename=filename,
    )


def _rejected(filename: str, pointer: str, line: int | None, message: str, code: str) -> ContractValidation:
    fault = ContractFault(pointer=pointer, line=line, message=message, code=code)
    return ContractValidation(valid=False, kind=None, document=None, digest="", faults=[fault], filename=filename)


def _kind_fault(kind: Any, lines: dict[str, int]) -> ContractFault | None:
    """The schema is chosen by kind, so a missing or unknown kind is reported before anything else."""
    if kind is None:
        return ContractFault("", line_for("", lines), "missing required key 'kind'", "missing_key")
    if kind not in KINDS:
        message = f"{json.dumps(kind)} is not one of {json.dumps(list(KINDS))}"
        return ContractFault("/kind", line_for("/kind", lines), message, "unknown_kind")
    return None


def validate_contract_file(
    path: str | Path,
    *,
    today: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ContractValidation:
    """Validate a contract file, reading at most max_bytes + 1 bytes of it."""
    with open(path, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    return validate_contract(raw, filename=str(path), today=today, max_bytes=max_bytes)


def format_fault(filename: str, fault: ContractFault) -> str:
    """One CLI/editor-friendly line: 'file:line: /pointer: message'."""
    location = f"{filename}:{fault.line}" if fault.line is not None else filename
    return f"{location}: {fault.pointer or '/'}: {fault.message}"


def main(argv: list[str] | None = None) -> int:
    """Validate the contract files given on the command line; exit status 1 when any is invalid."""
    paths = sys.argv[1:] if argv is None else argv
    status = 0
    for path in paths:
        result = validate_contract_file(path)
        for fault in result.faults:
            print(format_fault(path, fault), file=sys.stderr)
        if result.valid:
            print(f"{path}: valid {result.kind} sha256:{result.digest}")
        else:
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
