"""The shipped templates and filled examples are valid contracts with real CIS ids and stable digests."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from apps.images.contracts import canonical_digest, validate_contract, validate_contract_file

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((REPO_ROOT / "contracts" / "examples").glob("*.yaml"))
TEMPLATES = [REPO_ROOT / "contracts" / "image.contract.yaml", REPO_ROOT / "contracts" / "image.contract.windows.yaml"]
EXPECTED_KINDS = {
    "rhel-9.contract.yaml": "ImageContract",
    "ubuntu-22.04.contract.yaml": "ImageContract",
    "windows-server-2022.contract.yaml": "WindowsImageContract",
    "image.contract.yaml": "ImageContract",
    "image.contract.windows.yaml": "WindowsImageContract",
}


def test_examples_directory_holds_the_three_filled_examples() -> None:
    assert [path.name for path in EXAMPLES] == [
        "rhel-9.contract.yaml",
        "ubuntu-22.04.contract.yaml",
        "windows-server-2022.contract.yaml",
    ]


@pytest.mark.parametrize("path", EXAMPLES + TEMPLATES, ids=lambda p: p.name)
def test_contract_file_is_valid(path: Path, today: date) -> None:
    result = validate_contract_file(path, today=today)

    assert result.faults == []
    assert result.valid is True
    assert result.kind == EXPECTED_KINDS[path.name]
    assert result.document == _safe_load_with_text_dates(path)
    assert len(result.digest) == 64


def _safe_load_with_text_dates(path: Path) -> dict:
    """What yaml.safe_load reads, except that the contract loader keeps expiry dates as text."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for exception in document["hardening"]["cis"]["exceptions"]:
        assert isinstance(exception["expiry"], date)
        exception["expiry"] = exception["expiry"].isoformat()
    return document


def _rule_ids(name: str) -> set[str]:
    text = (REPO_ROOT / "fixtures" / "external" / "cis" / name).read_text(encoding="utf-8")
    return set(text.split())


@pytest.mark.parametrize(
    ("path", "rule_list", "expected_controls"),
    [
        (
            REPO_ROOT / "contracts/examples/ubuntu-22.04.contract.yaml",
            "ubuntu22-cis-v2.0.0-rule-ids.txt",
            ["1.1.2.1.1", "1.4.1"],
        ),
        (REPO_ROOT / "contracts/image.contract.yaml", "ubuntu22-cis-v2.0.0-rule-ids.txt", ["1.4.1"]),
        (
            REPO_ROOT / "contracts/examples/windows-server-2022.contract.yaml",
            "windows2022-cis-rule-ids.txt",
            ["2.3.11.4", "2.3.7.6"],
        ),
        (REPO_ROOT / "contracts/image.contract.windows.yaml", "windows2022-cis-rule-ids.txt", ["2.3.11.4"]),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else None,
)
def test_exceptions_use_real_cis_recommendation_ids(path: Path, rule_list: str, expected_controls: list[str]) -> None:
    known = _rule_ids(rule_list)
    controls = [e["control"] for e in validate_contract_file(path).document["hardening"]["cis"]["exceptions"]]

    assert controls == expected_controls
    assert set(controls) <= known


def test_rule_id_fixtures_have_the_documented_counts() -> None:
    assert len(_rule_ids("ubuntu22-cis-v2.0.0-rule-ids.txt")) == 300
    assert len(_rule_ids("windows2022-cis-rule-ids.txt")) == 444


@pytest.mark.parametrize("path", EXAMPLES + TEMPLATES, ids=lambda p: p.name)
def test_example_exceptions_expire_in_2027_or_2028(path: Path) -> None:
    expiries = [e["expiry"] for e in validate_contract_file(path).document["hardening"]["cis"]["exceptions"]]

    assert expiries
    assert all(expiry[:4] in {"2027", "2028"} for expiry in expiries)


def test_digest_is_sha256_of_sorted_compact_json(repo_root: Path) -> None:
    result = validate_contract_file(repo_root / "contracts/examples/rhel-9.contract.yaml")
    canonical = json.dumps(result.document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert result.digest == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert result.digest == canonical_digest(result.document)


def test_digest_ignores_comments_key_order_and_quoting(example_text) -> None:
    original = example_text("windows-server-2022.contract.yaml")
    reshaped = "\n".join(line for line in original.splitlines() if not line.lstrip().startswith("#"))
    reshaped = reshaped.replace(
        "apiVersion: qlrf.io/v1\nkind: WindowsImageContract", "kind: WindowsImageContract\napiVersion: 'qlrf.io/v1'"
    )

    first, second = validate_contract(original), validate_contract(reshaped)

    assert first.valid and second.valid
    assert reshaped != original
    assert second.digest == first.digest


def test_digest_changes_when_a_value_changes(example_text) -> None:
    original = example_text("windows-server-2022.contract.yaml")
    changed = original.replace("password_length: 20", "password_length: 21")

    assert validate_contract(changed).digest != validate_contract(original).digest


def test_bytes_and_text_inputs_give_the_same_result(example_text, today: date) -> None:
    text = example_text("ubuntu-22.04.contract.yaml")

    from_text = validate_contract(text, today=today)
    from_bytes = validate_contract(text.encode("utf-8"), today=today)
    with_bom = validate_contract(b"\xef\xbb\xbf" + text.encode("utf-8"), today=today)

    assert from_text.valid and from_bytes.valid and with_bom.valid
    assert from_text.digest == from_bytes.digest == with_bom.digest


def test_default_today_is_the_wall_clock(example_text) -> None:
    # Every example exception expires in 2027 or later, so validating "now" (no today given) passes until then.
    assert validate_contract(example_text("ubuntu-22.04.contract.yaml")).valid is (date.today() <= date(2027, 9, 30))


def test_filename_is_carried_on_the_result(repo_root: Path) -> None:
    path = repo_root / "contracts/examples/rhel-9.contract.yaml"

    assert validate_contract_file(path).filename == str(path)
    assert validate_contract("kind: x\n", filename="ci/contract.yaml").filename == "ci/contract.yaml"
