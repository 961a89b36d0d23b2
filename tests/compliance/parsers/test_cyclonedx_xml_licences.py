"""CycloneDX XML: the XSD's SPDX licence-id enumeration is checked by a set, every other XSD rule by libxml2 (ADR 019).

The reduced XSD plus the set must accept and refuse exactly what the official XSD does."""

from __future__ import annotations

from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.xml import XmlValidator
from lxml import etree

from apps.compliance.parsers import DocumentError, detect_and_parse
from apps.compliance.parsers.base import _load_xml
from apps.compliance.parsers.cyclonedx_schema import xml_licence_faults, xml_schema

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "external" / "sbom" / "cyclonedx" / "valid-bom-1.5.xml"


def _bom(version: str, licences: str, extra: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/{version}" version="1">\n'
        f'<components>\n<component type="library"><name>a</name><version>1</version>'
        f"<licenses>{licences}</licenses>{extra}</component>\n</components>\n</bom>"
    ).encode()


def _official_accepts(data: bytes, version: str) -> bool:
    return XmlValidator(SchemaVersion.from_version(version))._validator.validate(etree.fromstring(data))


def _reduced_accepts(data: bytes, version: str) -> bool:
    schema, root = xml_schema(version), _load_xml(data)
    return schema.schema.validate(root) and not list(xml_licence_faults(root, schema))


CASES = [
    "<license><id>MIT</id></license>",
    "<license><id>Apache-2.0</id></license><license><id>GPL-2.0-only</id></license>",
    "<license><id>GPLv2+</id></license>",  # not on the list
    "<license><id>mit</id></license>",  # the enumeration is case-sensitive
    "<license><id></id></license>",
    "<license><name>Acme Proprietary</name></license>",
    "<expression>MIT OR GPLv2+</expression>",
    "<license><id>MIT</id><id>MIT</id></license>",  # structure: one id only
    "<license><bogus/></license>",
]


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
@pytest.mark.parametrize("licences", CASES)
def test_the_reduced_xsd_and_the_set_judge_like_the_official_xsd(version: str, licences: str) -> None:
    data = _bom(version, licences)
    assert _reduced_accepts(data, version) == _official_accepts(data, version)


def test_the_real_fixture_is_judged_alike() -> None:
    data = FIXTURE.read_bytes()
    assert _reduced_accepts(data, "1.5") is _official_accepts(data, "1.5") is True


def test_the_set_is_the_whole_spdx_list_of_the_xsd() -> None:
    ids = xml_schema("1.6").licence_ids
    assert {"MIT", "Apache-2.0", "GPL-2.0-only", "0BSD"} <= ids
    assert len(ids) > 500


def test_an_unknown_licence_id_is_refused_at_its_line_in_document_terms() -> None:
    with pytest.raises(DocumentError) as caught:
        detect_and_parse("sbom", _bom("1.6", "<license><id>GPLv2+</id></license>"))
    assert (caught.value.code, caught.value.path) == ("invalid_document", "line 4")
    assert "'GPLv2+' is not on the SPDX licence list" in caught.value.detail


def test_licence_ids_outside_components_are_checked_too() -> None:
    metadata = "<metadata><licenses><license><id>NotALicence</id></license></licenses></metadata>"
    data = _bom("1.6", "<license><id>MIT</id></license>").replace(b'version="1">', f'version="1">{metadata}'.encode())
    assert _official_accepts(data, "1.6") is False
    with pytest.raises(DocumentError):
        detect_and_parse("sbom", data)
