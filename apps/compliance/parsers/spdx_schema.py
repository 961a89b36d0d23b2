"""SPDX 2.2 / 2.3 JSON schema validation in linear time (ADR 019).

The official SPDX JSON schemas (``schemas/spdx/``, from the SPDX specification's ``schemas/`` directory as shipped in
lib4sbom 0.10.4; see ``schemas/spdx/README.md``) compiled once per version with ``jsonschema-rs``. Once a document
holds to its schema, every field the importer reads has the type the schema gives it, so packages are read from the
decoded JSON directly instead of through spdx-tools' object model (30–54× ``json.loads``, mostly per-field type
checks). Which faults are tolerated (recorded as validation findings) and which refuse the document is decided by the
parser (``spdx.py``), not here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema_rs

from .json_schema import SchemaFault, iter_faults

_SCHEMAS = Path(__file__).resolve().parent / "schemas" / "spdx"


@functools.cache
def _validator(version: str) -> jsonschema_rs.Validator:
    with open(_SCHEMAS / f"{version}-schema.json", encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema_rs.validator_for(schema)


def schema_faults(document: object, version: str) -> Iterator[SchemaFault]:
    """Yield every departure of the document from the SPDX JSON schema of ``version`` ("2.2" or "2.3").

    Not capped: tolerated faults become findings whose count must be true. They are bounded by the objects in the
    document (one per missing field or per object with unknown properties), like the package records themselves.
    """
    return iter_faults(_validator(version), document, limit=None)
