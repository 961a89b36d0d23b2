"""CycloneDX JSON schema and XSD validation in linear time (ADR 019).

cyclonedx-python-lib ships the official schemas and validates with ``jsonschema``, whose ``uniqueItems`` compares every
pair of array items: 4,000 components took 71 s and 60,000 killed a worker. The same official schema files (and the
SPDX licence, JSF and cryptography-definition schemas they reference) are compiled here once per spec version with
``jsonschema-rs`` (``json_schema``): 100,000 components validate in a fraction of the time ``json.loads`` takes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema_rs
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON, BOM_XML, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from lxml import etree

from .json_schema import SchemaFault, iter_faults

_SCHEMA_PREFIX = "http://cyclonedx.org/schema/"
_REFERENCED = (
    ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
    ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
    ("jsf-0.82.SNAPSHOT.schema.json", JSF),
)


@functools.cache
def _validator(version: str) -> jsonschema_rs.Validator:
    schema_file = BOM_JSON[SchemaVersion.from_version(version)]
    with open(schema_file, encoding="utf-8") as fh:
        schema = json.load(fh)
    resources = []
    for name, path in _REFERENCED:
        with open(path, encoding="utf-8") as fh:
            resources.append((_SCHEMA_PREFIX + name, json.load(fh)))
    return jsonschema_rs.validator_for(schema, registry=jsonschema_rs.Registry(resources), validate_formats=True)


def schema_faults(document: object, version: str) -> Iterator[SchemaFault]:
    """Yield the document's departures from the CycloneDX schema of ``version`` (at most ``MAX_ERRORS``)."""
    return iter_faults(_validator(version), document)


# --- XML --------------------------------------------------------------------------------------------------------------

_SPDX_XSD = "spdx.SNAPSHOT.xsd"
_XSD = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True)
class XmlSchema:
    """The official CycloneDX XSD of a version, with its SPDX licence-id enumeration checked by a set.

    libxml2 checks an ``xs:enumeration`` facet by walking the list: the SPDX licence list has about 700 ids, so every
    ``<license><id>`` cost ~60 µs and the XSD took 95 % of a document's parse time. The same enumeration is read from
    the same ``spdx.SNAPSHOT.xsd`` into a set and checked after the XSD, which is compiled with that one type reduced
    to its base (``xs:string``). Every other rule of the XSD is unchanged. The licence-id type is used only by
    ``license/id`` in every CycloneDX XSD, so that is where the set is checked.
    """

    schema: etree.XMLSchema
    licence_ids: frozenset[str]


@functools.cache
def xml_schema(version: str) -> XmlSchema:
    """Compile the XSD of ``version`` once (about 0.2 s) and keep it."""
    spdx = etree.parse(str(Path(BOM_XML[SchemaVersion.from_version(version)]).parent / _SPDX_XSD))
    (restriction,) = spdx.getroot().iterfind(f"{_XSD}simpleType[@name='licenseId']/{_XSD}restriction")
    facets = restriction.findall(f"{_XSD}enumeration")
    ids = frozenset(facet.get("value") for facet in facets)
    for facet in facets:
        restriction.remove(facet)

    class _Reduced(etree.Resolver):
        def resolve(self, url, pubid, context):
            if url.rsplit("/", 1)[-1] == _SPDX_XSD:
                return self.resolve_string(etree.tostring(spdx), context)
            return None

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Reduced())
    bom = etree.parse(str(Path(BOM_XML[SchemaVersion.from_version(version)])), parser)
    return XmlSchema(etree.XMLSchema(bom), ids)


def xml_licence_faults(root: etree._Element, schema: XmlSchema) -> Iterator[tuple[int, str]]:
    """``(line, id)`` of every ``<license><id>`` that is not an id of the XSD's SPDX licence list."""
    ns = "{" + root.tag[1:].split("}", 1)[0] + "}"
    for element in root.iterfind(f".//{ns}license/{ns}id"):
        if element.text not in schema.licence_ids:
            yield element.sourceline or 1, element.text or ""
