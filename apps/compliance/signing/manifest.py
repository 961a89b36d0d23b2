"""The canonical release manifest a pipeline signs: deterministic bytes for the same logical content."""

from __future__ import annotations

from typing import Any

import rfc8785

MANIFEST_SCHEMA = "qlrf.manifest/v1"


def canonical_manifest(*, family: str, version: str, contract_digest: str, artifacts: list[dict[str, Any]]) -> bytes:
    """Serialise a manifest as RFC 8785 JSON (sorted keys, no whitespace) with artifacts in a fixed order.

    The same inputs in any key or list order give the same bytes, so a signature made in CI verifies in the portal.
    """
    for label, value in (("family", family), ("version", version), ("contract_digest", contract_digest)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{label} must be a non-empty string")
    if not isinstance(artifacts, list) or not all(isinstance(a, dict) for a in artifacts):
        raise ValueError("artifacts must be a list of objects")
    ordered = sorted(artifacts, key=rfc8785.dumps)
    encoded = [rfc8785.dumps(artifact) for artifact in ordered]
    if len(set(encoded)) != len(encoded):
        raise ValueError("artifacts contain duplicate entries")
    return rfc8785.dumps(
        {
            "schema": MANIFEST_SCHEMA,
            "family": family,
            "version": version,
            "contract_digest": contract_digest,
            "artifacts": ordered,
        }
    )
