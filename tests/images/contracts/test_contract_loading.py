"""Hostile and malformed inputs: the loader refuses them with one clear fault and never constructs objects."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from apps.images.contracts import ContractFault, format_fault, main, validate_contract, validate_contract_file

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _triples(text: str | bytes, **kwargs) -> list[tuple[str, int | None, str]]:
    return [(f.pointer, f.line, f.code) for f in validate_contract(text, **kwargs).faults]


def test_billion_laughs_is_refused_at_the_first_alias_without_expanding() -> None:
    started = time.perf_counter()
    result = validate_contract(BILLION_LAUGHS)

    assert time.perf_counter() - started < 1.0
    assert [(f.pointer, f.line, f.code, f.message) for f in result.faults] == [
        ("", 2, "yaml_alias", "YAML aliases are not allowed in contracts (*a)")
    ]
    assert result.valid is False and result.document is None and result.digest == ""


def test_deep_nesting_is_refused() -> None:
    assert _triples("a: " + "[" * 100 + "]" * 100 + "\n") == [("", 1, "too_deep")]


def test_nesting_just_under_the_cap_is_loaded_and_then_judged_by_the_schema() -> None:
    result = validate_contract("kind: ImageContract\nx: " + "[" * 60 + "]" * 60 + "\n")

    assert result.document is not None
    assert ("/x", 2, "unknown_key") in [(f.pointer, f.line, f.code) for f in result.faults]


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"kind: ImageContract\nbase: !!python/object/apply:os.system ['touch {marker}']\n"

    assert _triples(text) == [("/base", 2, "invalid_yaml")]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!binary aGVsbG8=", "binary"), ("!!timestamp 2027-01-01", "timestamp"), ("!!set {a, b}", "set")],
)
def test_other_non_json_tags_are_refused(value: str, tag: str) -> None:
    result = validate_contract(f"kind: ImageContract\nidentity:\n  description: {value}\n")

    assert [(f.pointer, f.line, f.code, f.message) for f in result.faults] == [
        ("/identity/description", 3, "invalid_yaml", f"unsupported YAML tag tag:yaml.org,2002:{tag}")
    ]


def test_unquoted_dates_stay_text() -> None:
    result = validate_contract("kind: Nope\nwhen: 2027-01-31\n")

    assert result.document == {"kind": "Nope", "when": "2027-01-31"}


def test_non_finite_numbers_are_faults_not_crashes() -> None:
    result = validate_contract("kind: Nope\nratio: .nan\n")

    assert [(f.pointer, f.line, f.code) for f in result.faults] == [
        ("/kind", 1, "unknown_kind"),
        ("/ratio", 2, "invalid_yaml"),
    ]
    assert result.document == {"kind": "Nope", "ratio": None}


def test_complex_mapping_keys_are_faults() -> None:
    assert _triples("kind: Nope\n? [a, b]\n: 1\n") == [("/kind", 1, "unknown_kind"), ("", 2, "invalid_yaml")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [("", 1, "empty_document")]),
        ("# only a comment\n", [("", 1, "empty_document")]),
        ("- a\n- b\n", [("", 1, "wrong_type")]),
        ("just text\n", [("", 1, "wrong_type")]),
        ("kind: ImageContract\n---\nkind: ImageContract\n", [("", 2, "invalid_yaml")]),
        ("kind: ImageContract\nidentity:\n\tfamily: x\n", [("", 3, "invalid_yaml")]),
        ('kind: "ImageContract\n', [("", 2, "invalid_yaml")]),
        ("apiVersion: qlrf.io/v1\nname: x\n", [("", 1, "missing_key")]),
        ("kind: [ImageContract]\n", [("/kind", 1, "unknown_kind")]),
    ],
    ids=[
        "empty",
        "comment-only",
        "list-root",
        "scalar-root",
        "two-documents",
        "tab-indent",
        "unclosed-quote",
        "no-kind",
        "kind-not-text",
    ],
)
def test_malformed_documents(text: str, expected: list[tuple[str, int, str]]) -> None:
    result = validate_contract(text)

    assert [(f.pointer, f.line, f.code) for f in result.faults] == expected
    assert result.valid is False


def test_control_characters_are_invalid_yaml() -> None:
    assert _triples("kind: ImageContract\nname: a\x07b\n") == [("", 2, "invalid_yaml")]


def test_non_utf8_input_is_rejected_with_its_line() -> None:
    result = validate_contract(b"kind: ImageContract\nidentity:\n  description: caf\xe9\n")

    assert [(f.pointer, f.line, f.code) for f in result.faults] == [("", 3, "invalid_encoding")]


def test_size_limit_is_checked_before_parsing() -> None:
    body = b"kind: ImageContract\n" + b"x" * 100

    assert _triples(body, max_bytes=len(body) - 1) == [("", 1, "too_large")]
    assert "too_large" not in [code for _, _, code in _triples(body, max_bytes=len(body))]
    # Even an alias bomb is not looked at when it is too large.
    assert _triples(BILLION_LAUGHS, max_bytes=64) == [("", 1, "too_large")]


def test_file_reader_stops_after_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# filler\n" * 200_000)  # 1.8 MB

    result = validate_contract_file(path)

    assert [(f.code, f.message) for f in result.faults] == [
        ("too_large", "contract is 262145 bytes, more than the limit of 262144")
    ]


def test_expiry_is_judged_against_the_given_day(repo_root: Path) -> None:
    path = repo_root / "contracts/examples/ubuntu-22.04.contract.yaml"

    def expired(day: date) -> list[str]:
        return [f.pointer for f in validate_contract_file(path, today=day).faults if f.code == "expired_exception"]

    assert expired(date(2027, 9, 30)) == []
    assert expired(date(2027, 10, 1)) == ["/hardening/cis/exceptions/0/expiry"]
    assert expired(date(2028, 4, 1)) == ["/hardening/cis/exceptions/0/expiry", "/hardening/cis/exceptions/1/expiry"]


def test_format_fault_variants() -> None:
    assert format_fault("a.yaml", ContractFault("/x/0", 7, "boom", "c")) == "a.yaml:7: /x/0: boom"
    assert format_fault("a.yaml", ContractFault("", 1, "boom", "c")) == "a.yaml:1: /: boom"
    assert format_fault("a.yaml", ContractFault("/x", None, "boom", "c")) == "a.yaml: /x: boom"
    assert str(ContractFault("/x", 3, "boom", "c")) == "/x: boom"


def test_cli_reports_each_file(repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = repo_root / "contracts/examples/rhel-9.contract.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: qlrf.io/v1\nkind: Kontract\n", encoding="utf-8")
    digest = validate_contract_file(good).digest

    assert main([str(good)]) == 0
    assert main([str(good), str(bad)]) == 1

    captured = capsys.readouterr()
    assert captured.out == f"{good}: valid ImageContract sha256:{digest}\n" * 2
    assert captured.err == f'{bad}:2: /kind: "Kontract" is not one of ["ImageContract", "WindowsImageContract"]\n'
