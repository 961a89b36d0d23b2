"""SPDX tag-value goes through spdx-tools' grammar without rebuilding the licence index per line or the LALR tables
per document (a 1,000-package document took minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ply import yacc
from spdx_tools.spdx.parser.tagvalue import parser as spdx_tag_value
from spdx_tools.spdx.parser.tagvalue.parser import Parser

from apps.compliance.parsers import detect_and_parse
from apps.compliance.parsers.spdx_tagvalue import tag_value_parser

EXAMPLE = Path(__file__).resolve().parents[3] / "fixtures" / "external" / "sbom" / "spdx" / "SPDXTagExample-v2.3.spdx"


@pytest.mark.parametrize("path", [EXAMPLE], ids=["example"])
def test_the_document_built_is_the_one_spdx_tools_builds(path: Path) -> None:
    text = path.read_text()
    reference = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger()).parse(text)
    assert tag_value_parser().parse(text) == reference


def test_no_licence_line_rebuilds_the_licence_index(monkeypatch) -> None:
    tag_value_parser()  # warm

    def rebuilt(*args, **kwargs):
        raise AssertionError("get_spdx_licensing() rebuilds the SPDX licence index")

    monkeypatch.setattr(spdx_tag_value, "get_spdx_licensing", rebuilt)
    sbom = detect_and_parse("sbom", EXAMPLE.read_bytes())
    assert len(sbom.packages) == 4
    assert "MPL-1.0" in {p.license for p in sbom.packages}


def test_the_lalr_tables_are_generated_once_per_process(monkeypatch) -> None:
    tag_value_parser()  # warm: the first parser of the process generates them

    def generated(*args, **kwargs):
        raise AssertionError("the LALR tables were generated again")

    monkeypatch.setattr(yacc.LRGeneratedTable, "lr_parse_table", generated)
    for _ in range(3):
        assert len(tag_value_parser().parse(EXAMPLE.read_text()).packages) == 4


def test_a_licence_line_that_is_no_expression_is_refused_in_document_terms() -> None:
    text = EXAMPLE.read_text().replace(
        "PackageLicenseConcluded: (LGPL-2.0-only OR LicenseRef-3)", "PackageLicenseConcluded: MIT AND (", 1
    )
    from apps.compliance.parsers import DocumentError

    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", text.encode())
    assert caught.value.code == "invalid_document"
    assert "license expression" in caught.value.detail.lower()
