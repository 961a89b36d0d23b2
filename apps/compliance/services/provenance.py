"""SLSA provenance documents: read the in-toto statement and the build level it claims. Plain Python, no ORM.

Accepted shapes: an in-toto Statement, a DSSE envelope holding one, or a Sigstore bundle whose ``dsseEnvelope`` holds
one. The claimed level (documented in docs/compliance.md): a statement from a hardened builder (the SLSA GitHub
generator's ``*_slsa3.yml`` workflows) in a signed envelope claims L3; any other signed envelope L2; an unsigned
statement L1. The envelope's signature is recorded, not verified, here: the level is a claim.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from apps.compliance.parsers import DocumentError

SLSA_PREDICATES = ("https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1")
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
HARDENED_BUILDER_PREFIXES = ("https://github.com/slsa-framework/slsa-github-generator/",)


@dataclass(frozen=True)
class ProvenanceClaim:
    """What a provenance statement says: predicate type, builder, whether it came signed, and the claimed level."""

    predicate_type: str
    builder_id: str
    signed: bool
    slsa_level: int
    subjects: int


def provenance_parse(data: bytes) -> ProvenanceClaim:
    """Parse a provenance upload or raise DocumentError with a JSON pointer to the fault."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentError("malformed_json", f"provenance is not JSON: {exc}", "") from None
    if not isinstance(doc, dict):
        raise DocumentError("invalid_document", "a provenance document must be a JSON object", "")
    statement, signed = _statement(doc)
    predicate_type = statement.get("predicateType")
    if predicate_type not in SLSA_PREDICATES:
        detail = f"predicateType {predicate_type!r} is not SLSA provenance ({', '.join(SLSA_PREDICATES)})"
        raise DocumentError("unsupported_predicate", detail, "/predicateType")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise DocumentError("invalid_document", "the statement names no subject", "/subject")
    builder = _builder_id(statement.get("predicate") or {})
    hardened = builder.startswith(HARDENED_BUILDER_PREFIXES) and "_slsa3.yml" in builder
    level = 3 if signed and hardened else 2 if signed else 1
    return ProvenanceClaim(predicate_type, builder, signed, level, len(subjects))


def _statement(doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    envelope = doc.get("dsseEnvelope") if "dsseEnvelope" in doc else doc if "payloadType" in doc else None
    if envelope is None:
        _require_statement(doc, "")
        return doc, False
    if not isinstance(envelope, dict) or envelope.get("payloadType") != IN_TOTO_PAYLOAD_TYPE:
        raise DocumentError("unsupported_payload", f"DSSE payload type is not {IN_TOTO_PAYLOAD_TYPE}", "/payloadType")
    try:
        statement = json.loads(base64.b64decode(envelope.get("payload") or "", validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise DocumentError("invalid_document", "DSSE payload is not a base64 JSON statement", "/payload") from None
    if not isinstance(statement, dict):
        raise DocumentError("invalid_document", "DSSE payload is not a JSON object", "/payload")
    _require_statement(statement, "/payload")
    return statement, bool(envelope.get("signatures"))


def _require_statement(statement: dict[str, Any], prefix: str) -> None:
    kind = statement.get("_type")
    if not isinstance(kind, str) or not kind.startswith("https://in-toto.io/Statement/"):
        raise DocumentError("invalid_document", "not an in-toto Statement (missing or wrong _type)", f"{prefix}/_type")


def _builder_id(predicate: dict[str, Any]) -> str:
    run = predicate.get("runDetails") if isinstance(predicate, dict) else None
    builder = (run or {}).get("builder") if isinstance(run, dict) else predicate.get("builder")
    value = builder.get("id") if isinstance(builder, dict) else ""
    return value if isinstance(value, str) else ""
