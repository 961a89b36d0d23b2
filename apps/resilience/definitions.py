"""Validate drill definitions (``contracts/drill.schema.json``) with the image contracts' JSON-pointer faults.

Pure Python (no ORM): the same safe YAML loading (no aliases, bounded depth, size limit, line numbers), the schema's
faults at their JSON pointer and YAML line with the same stable codes, then the rules a schema cannot say (unique
check names, a cron expression croniter accepts, the platform's own pilot-light fields).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from croniter import croniter
from jsonschema import Draft202012Validator

from apps.images.contract_schema import line_for, validator_faults
from apps.images.contract_types import ContractFault, ContractValidation
from apps.images.contract_yaml import parse_contract_yaml
from apps.images.contracts import canonical_digest, format_fault

__all__ = ["DEFAULT_MAX_BYTES", "KIND", "format_fault", "validate_drill", "validate_drill_file"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "contracts" / "drill.schema.json"
KIND = "DrillDefinition"
DEFAULT_MAX_BYTES = 64 * 1024


@cache
def drill_validator() -> Draft202012Validator:
    """The draft 2020-12 validator of drill definitions, with format checking."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_drill(data: bytes | str, *, filename: str = "<input>", max_bytes: int = DEFAULT_MAX_BYTES):
    """Validate one drill definition (YAML or JSON text); never raises on bad input, every problem is a fault."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        return _rejected(filename, f"definition is {len(raw)} bytes, more than the limit of {max_bytes}", "too_large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _rejected(filename, f"definition is not valid UTF-8 (byte {exc.start})", "invalid_encoding")
    parsed = parse_contract_yaml(text)
    if parsed.fatal:
        return ContractValidation(False, None, None, "", parsed.faults, filename)
    document, faults = parsed.document, list(parsed.faults)
    if not isinstance(document, dict):
        faults.append(
            ContractFault("", line_for("", parsed.lines), "a drill definition must be a mapping", "wrong_type")
        )
        return ContractValidation(False, None, None, "", faults, filename)
    faults.extend(validator_faults(drill_validator(), document, parsed.lines))
    if not faults:
        faults.extend(_semantic_faults(document, parsed.lines))
    faults.sort(key=lambda fault: (fault.line or 0, fault.pointer))
    return ContractValidation(
        valid=not faults,
        kind=KIND if document.get("kind") == KIND else None,
        document=document,
        digest=canonical_digest(document),
        faults=faults,
        filename=filename,
    )


def validate_drill_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ContractValidation:
    """Validate a definition file, reading at most max_bytes + 1 bytes of it."""
    with open(path, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    return validate_drill(raw, filename=str(path), max_bytes=max_bytes)


def _rejected(filename: str, message: str, code: str) -> ContractValidation:
    fault = ContractFault(pointer="", line=1, message=message, code=code)
    return ContractValidation(valid=False, kind=None, document=None, digest="", faults=[fault], filename=filename)


def _semantic_faults(document: dict[str, Any], lines: dict[str, int]) -> list[ContractFault]:
    """Rules beyond the schema, each at the pointer of the value at fault."""
    faults: list[ContractFault] = []

    def fault(pointer: str, message: str, code: str) -> None:
        faults.append(ContractFault(pointer, line_for(pointer, lines), message, code))

    seen: set[str] = set()
    for index, check in enumerate(document["health_checks"]):
        if check["name"] in seen:
            fault(f"/health_checks/{index}/name", f"health check name {check['name']!r} is used twice", "duplicate")
        seen.add(check["name"])
    cron = (document.get("schedule") or {}).get("cron")
    if cron is not None and not croniter.is_valid(cron):
        fault("/schedule/cron", f"{json.dumps(cron)} is not a valid cron expression", "bad_format")
    platform, pilot = document["target"]["platform"], document["pilot_light"]
    if platform == "aws" and "instance_type" not in pilot:
        fault(
            "/pilot_light",
            "missing required key 'instance_type' (AWS drills launch instances of a type)",
            "missing_key",
        )
    for key in ("instance_type",) if platform == "vsphere" else ("cpus", "memory_mb"):
        if platform in ("aws", "vsphere") and key in pilot:
            fault(f"/pilot_light/{key}", f"{key!r} does not apply to {platform} drills", "not_applicable")
    source = document["recovery_point"]["source"]
    if source == "snapshot_tag" and platform != "aws":
        fault(
            "/recovery_point/source",
            "snapshot_tag recovery points are read from EBS snapshots (AWS only)",
            "not_applicable",
        )
    return faults
