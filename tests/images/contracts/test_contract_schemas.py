"""The JSON Schemas themselves: valid draft 2020-12, closed objects, every $ref resolvable offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.images.contract_schema import KINDS, SCHEMA_DIR, SCHEMA_FILES, schema_registry

SCHEMA_PATHS = sorted(SCHEMA_DIR.glob("*.schema.json"))
# Sub-schemas that only test a condition are not documents, so they need not be closed.
CONDITION_KEYWORDS = {"if", "then", "else"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _walk(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key not in CONDITION_KEYWORDS:
                yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_the_three_schema_files_exist() -> None:
    assert [path.name for path in SCHEMA_PATHS] == [
        "common.schema.json",
        "image.contract.schema.json",
        "image.contract.windows.schema.json",
    ]
    assert KINDS == ("ImageContract", "WindowsImageContract")
    assert set(SCHEMA_FILES.values()) == {"image.contract.schema.json", "image.contract.windows.schema.json"}


@pytest.mark.parametrize("path", SCHEMA_PATHS, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = _load(path)

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://qlrf.io/schemas/v1/{path.name}"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", SCHEMA_PATHS, ids=lambda p: p.name)
def test_every_object_with_properties_is_closed(path: Path) -> None:
    open_objects = [
        where
        for where, node in _walk(_load(path))
        if "properties" in node and node.get("additionalProperties") is not False
    ]

    assert open_objects == []


@pytest.mark.parametrize("path", SCHEMA_PATHS, ids=lambda p: p.name)
def test_every_ref_resolves_offline(path: Path) -> None:
    schema = _load(path)
    resolver = schema_registry().resolver(base_uri=schema["$id"])
    refs = [node["$ref"] for _, node in _walk(schema) if "$ref" in node]

    resolved = [resolver.lookup(ref).contents for ref in refs]

    assert len(resolved) == len(refs)
    assert all(isinstance(contents, dict) for contents in resolved)


def test_kind_schemas_share_the_common_sections() -> None:
    linux = _load(SCHEMA_DIR / "image.contract.schema.json")["properties"]
    windows = _load(SCHEMA_DIR / "image.contract.windows.schema.json")["properties"]

    for section in ("base", "services", "patch_sla", "supply_chain", "targets"):
        assert linux[section] == windows[section], section
    assert linux["kind"] == {"const": "ImageContract"}
    assert windows["kind"] == {"const": "WindowsImageContract"}
