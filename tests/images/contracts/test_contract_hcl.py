"""The Terraform provisioning contract and the Packer example parse as HCL2 and agree with the image contracts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from apps.images.contracts import validate_contract_file

REPO_ROOT = Path(__file__).resolve().parents[3]
TF_PATH = REPO_ROOT / "contracts" / "provisioning.contract.tf"
PACKER_PATH = REPO_ROOT / "contracts" / "examples" / "packer" / "windows-2022.pkr.hcl"
COMMON_SCHEMA = REPO_ROOT / "contracts" / "schemas" / "common.schema.json"


def _blocks(parsed: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Map of block label -> body for 'variable "x" {...}' style blocks (python-hcl2 keeps label quotes)."""
    return {label.strip('"'): body for block in parsed.get(kind, []) for label, body in block.items()}


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    with TF_PATH.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def test_terraform_contract_declares_exactly_the_interface(terraform: dict[str, Any]) -> None:
    assert list(_blocks(terraform, "variable")) == ["image_family", "channel", "environment", "platform", "location"]
    assert list(_blocks(terraform, "output")) == ["image_ref", "image_version", "signature_status"]
    assert {key for key in terraform if not key.startswith("__")} == {"variable", "output"}


def test_every_terraform_variable_is_typed_documented_and_validated(terraform: dict[str, Any]) -> None:
    for name, body in _blocks(terraform, "variable").items():
        assert body["type"] == "string", name
        assert body["description"].strip('"'), name
        assert len(body["validation"]) == 1, name
        validation = body["validation"][0]
        assert f"var.{name}" in validation["condition"], name
        assert validation["error_message"].startswith(f'"The {name} must'), name


def _contains_list(condition: str) -> list[str]:
    found = re.fullmatch(r"\$\{contains\((\[.*\]), var\.\w+\)\}", condition)
    assert found, condition
    return json.loads(found.group(1))


def test_terraform_validations_agree_with_the_image_contract_schema(terraform: dict[str, Any]) -> None:
    variables = _blocks(terraform, "variable")
    common = json.loads(COMMON_SCHEMA.read_text(encoding="utf-8"))["$defs"]
    family_regex = re.search(
        r'regex\("(.*)", var\.image_family\)', variables["image_family"]["validation"][0]["condition"]
    )

    assert family_regex.group(1) == common["family"]["pattern"]
    assert _contains_list(variables["platform"]["validation"][0]["condition"]) == list(common["targets"]["properties"])
    assert _contains_list(variables["environment"]["validation"][0]["condition"]) == ["dev", "staging", "prod"]
    assert _contains_list(variables["channel"]["validation"][0]["condition"]) == ["stable", "candidate", "canary"]
    assert variables["channel"]["default"] == '"stable"'


def test_terraform_outputs_come_from_the_implementing_module(terraform: dict[str, Any]) -> None:
    outputs = _blocks(terraform, "output")

    assert {name: body["value"] for name, body in outputs.items()} == {
        "image_ref": "${local.image_ref}",
        "image_version": "${local.image_version}",
        "signature_status": "${local.signature_status}",
    }
    prod_guard = outputs["image_ref"]["precondition"][1]["condition"]
    assert (
        prod_guard == '${var.environment != "prod" || contains(["verified", "not_required"], local.signature_status)}'
    )


@pytest.fixture(scope="module")
def packer() -> dict[str, Any]:
    with PACKER_PATH.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def test_packer_template_reads_the_contract_file(packer: dict[str, Any]) -> None:
    locals_ = packer["locals"][0]

    assert locals_["contract"] == "${yamldecode(file(var.contract_path))}"
    assert list(_blocks(packer, "variable")) == ["contract_path", "image_version", "build_resource_group"]
    assert list(packer["source"][0]) == ['"azure-arm"']
    assert packer["build"][0]["sources"] == ['"source.azure-arm.windows"']


def _contract_paths(packer: dict[str, Any]) -> set[str]:
    """Every contract field path the template reads, through `local.contract` or a local aliasing part of it."""
    aliases = {
        name: value[len("${local.contract.") : -1]
        for name, value in packer["locals"][0].items()
        if isinstance(value, str) and re.fullmatch(r"\$\{local\.contract\.[\w.\[\]]+\}", value)
    }
    text = re.sub(r"try\([^()]*\)", "", PACKER_PATH.read_text(encoding="utf-8"))  # try() reads optional fields
    paths = set()
    for name, rest in re.findall(r"local\.(\w+)((?:\.\w+|\[\d+\])*)", text):
        if name == "contract" and rest:
            paths.add(rest[1:])
        elif name in aliases:
            paths.add(aliases[name] + rest)
    return paths


def _resolve(document: Any, path: str) -> Any:
    for part in re.findall(r"\w+|\[\d+\]", path):
        document = document[int(part[1:-1])] if part.startswith("[") else document[part]
    return document


def test_every_contract_field_the_packer_template_reads_exists_in_the_windows_example() -> None:
    example = validate_contract_file(REPO_ROOT / "contracts/examples/windows-server-2022.contract.yaml")
    paths = _contract_paths(hcl2.load(PACKER_PATH.open(encoding="utf-8")))

    assert example.valid
    assert len(paths) == 30
    assert {"features.required", "defender.asr_rules", "laps.password_length", "targets.azure[0].gallery"} <= paths
    missing = []
    for path in sorted(paths):
        try:
            _resolve(example.document, path)
        except (KeyError, IndexError, TypeError):
            missing.append(path)
    assert missing == []
