"""Registry behaviour and refusal of bad input: every refusal carries a stable code and the path of the fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.compliance.parsers import DocumentError, detect_and_parse, register_parser, registered_parsers
from apps.compliance.parsers.base import RawDocument, unregister_parser

NEWLINE = b"\n"


def refused(kind: str, data: bytes, **kwargs: object) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        detect_and_parse(kind, data, **kwargs)
    return caught.value


def test_every_format_is_registered() -> None:
    assert sorted(registered_parsers()) == [
        ("inspec", "inspec-json"),
        ("sarif", "sarif"),
        ("sbom", "cyclonedx-json"),
        ("sbom", "cyclonedx-xml"),
        ("sbom", "spdx-json"),
        ("sbom", "spdx-tag-value"),
        ("sbom", "spdx3-jsonld"),
    ]


def test_duplicate_registration_raises() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register_parser("sarif", "sarif")
        class Again:
            pass

    assert registered_parsers("sarif")[("sarif", "sarif")].__name__ == "SarifParser"


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown document kind"):
        register_parser("vex", "openvex")
    with pytest.raises(ValueError, match="unknown document kind"):
        detect_and_parse("vex", b"{}")


def test_a_new_format_plugs_in_through_the_decorator() -> None:
    @register_parser("inspec", "test-only")
    class Marker:
        @classmethod
        def accepts(cls, doc: RawDocument) -> bool:
            return doc.syntax == "json" and doc.json == {"marker": True}

        @classmethod
        def parse(cls, doc: RawDocument) -> str:
            return f"parsed {doc.filename}"

    try:
        assert detect_and_parse("inspec", b'{"marker": true}', filename="m.json") == "parsed m.json"
    finally:
        unregister_parser("inspec", "test-only")
    assert ("inspec", "test-only") not in registered_parsers()


def test_malformed_json_points_at_the_line() -> None:
    error = refused("sarif", b'{\n  "version": "2.1.0",\n  "runs": [,]\n}')
    assert (error.code, error.path) == ("malformed_json", "line 3")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("sbom", "sbom/spdx/ubi9-9.2-755.1697625012.spdx.json"),
        ("sbom", "sbom/cyclonedx/syft-scan-alpine-container.cdx.json"),
        ("sarif", "sarif/flawfinder.sarif"),
        ("inspec", "inspec/rhel8_sample_oneOfEachControlStatus.json"),
    ],
)
def test_json_fixture_cut_in_half_is_truncated(external: Path, kind: str, name: str) -> None:
    data = (external / name).read_bytes()
    half = data[: len(data) // 2]
    error = refused(kind, half)
    assert error.code == "truncated"
    assert error.path == f"line {half.count(NEWLINE) + 1}"


def test_xml_fixture_cut_in_half_is_truncated(external: Path) -> None:
    data = (external / "sbom/cyclonedx/valid-bom-1.5.xml").read_bytes()
    half = data[: len(data) // 2]
    error = refused("sbom", half)
    assert error.code == "truncated"
    assert error.path == f"line {half.rstrip().count(NEWLINE) + 1}"


def test_invalid_xml_points_at_the_line() -> None:
    doc = b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5">\n  <components>\n</bom>\n'
    error = refused("sbom", doc)
    assert (error.code, error.path) == ("malformed_xml", "line 4")


def test_xml_entity_expansion_is_refused() -> None:
    doc = b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaa">]>\n<bom>&a;</bom>\n'
    assert refused("sbom", doc).code == "malformed_xml"


def test_cyclonedx_xml_schema_fault_points_at_the_line(external: Path) -> None:
    text = (external / "sbom/cyclonedx/valid-bom-1.5.xml").read_text()
    broken = text.replace("<name>tomcat-catalina</name>", "<nome>tomcat-catalina</nome>", 1)
    line = text[: text.index("<name>tomcat-catalina</name>")].count("\n") + 1
    error = refused("sbom", broken.encode())
    assert (error.code, error.path) == ("invalid_document", f"line {line}")


@pytest.mark.parametrize(
    ("kind", "data", "path"),
    [
        ("sbom", b'{"bomFormat": "CycloneDX", "specVersion": "0.9", "version": 1}', "/specVersion"),
        ("sbom", b'{"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1}', "/specVersion"),
        ("sbom", b'{"spdxVersion": "SPDX-2.1", "SPDXID": "SPDXRef-DOCUMENT"}', "/spdxVersion"),
        ("sbom", b"SPDXVersion: SPDX-1.2\nDataLicense: CC0-1.0\n", "line 1"),
        ("sbom", b'<bom xmlns="http://cyclonedx.org/schema/bom/1.1" version="1"/>', "line 1"),
        ("sbom", b'{"@context": "https://spdx.org/rdf/2.9/spdx-context.jsonld", "@graph": []}', "/@context"),
        ("sarif", b'{"version": "1.0.0", "runs": []}', "/version"),
    ],
)
def test_unsupported_spec_versions(kind: str, data: bytes, path: str) -> None:
    error = refused(kind, data)
    assert (error.code, error.path) == ("unsupported_spec_version", path)


def test_oversized_input_is_refused_before_parsing(external: Path) -> None:
    data = (external / "sbom/spdx/ubi9-9.2-755.1697625012.spdx.json").read_bytes()
    error = refused("sbom", data, max_bytes=len(data) - 1)
    assert (error.code, error.path) == ("too_large", "")
    assert str(len(data)) in error.detail
    assert len(detect_and_parse("sbom", data, max_bytes=len(data)).packages) == 610


def test_a_document_of_another_kind_is_an_unsupported_format(external: Path) -> None:
    error = refused("sbom", (external / "sarif/trivy-alpine-310.sarif").read_bytes())
    assert (error.code, error.path) == ("unsupported_format", "")
    assert "spdx-json" in error.detail


@pytest.mark.parametrize(
    ("data", "code", "path"),
    [
        (b"", "invalid_document", ""),
        (b"   \n", "invalid_document", ""),
        (b"\xff\xfe{}", "invalid_encoding", "byte 0"),
        (b"[1, 2]", "unsupported_format", ""),
    ],
)
def test_empty_undecodable_or_shapeless_input(data: bytes, code: str, path: str) -> None:
    error = refused("sbom", data)
    assert (error.code, error.path) == (code, path)


def test_spdx_json_structure_faults_point_at_the_field(external: Path) -> None:
    doc = json.loads((external / "sbom/spdx/spdx-examples-example11.spdx.json").read_bytes())
    without_name = {k: v for k, v in doc.items() if k != "name"}
    assert refused("sbom", json.dumps(without_name).encode()).path == "/name"
    doc["packages"][1]["name"] = 42
    error = refused("sbom", json.dumps(doc).encode())
    assert (error.code, error.path) == ("invalid_document", "/packages/1/name")


def test_error_serialises_for_the_api() -> None:
    error = refused("sarif", b'{"version": "1.0.0", "runs": []}')
    assert error.as_dict() == {
        "code": "unsupported_spec_version",
        "detail": "SARIF version '1.0.0' is not supported (only 2.1.0)",
        "path": "/version",
    }


def test_spdx_tag_value_fault_points_at_the_line(external: Path) -> None:
    text = (external / "sbom/spdx/SPDXTagExample-v2.3.spdx").read_text()
    broken = text.replace("SPDXRef-Package DYNAMIC_LINK SPDXRef-Saxon", "SPDXRef-Package LINKS_TO SPDXRef-Saxon")
    error = refused("sbom", broken.encode())
    assert (error.code, error.path) == ("invalid_document", "line 111")
    assert "LINKS_TO" in error.detail
