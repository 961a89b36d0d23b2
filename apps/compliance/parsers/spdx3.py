"""SPDX 3.0 JSON-LD SBOMs: read the `@graph` directly (spdx-tools 0.8 has no SPDX 3 parser)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .results import PackageRecord, ParsedSbom

SUPPORTED_CONTEXTS = {
    "https://spdx.org/rdf/3.0.0/spdx-context.jsonld": "3.0.0",
    "https://spdx.org/rdf/3.0.1/spdx-context.jsonld": "3.0.1",
}
_RELATIONSHIP_TYPES = ("Relationship", "LifecycleScopedRelationship")
_LICENSE_RELATIONSHIPS = ("hasConcludedLicense", "hasDeclaredLicense")


@register_parser("sbom", "spdx3-jsonld")
class Spdx3JsonLdParser:
    """SPDX 3 documents serialised as JSON-LD with an SPDX `@context` and an `@graph` of elements."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a JSON object whose `@context` names an SPDX context."""
        if doc.syntax != "json" or not isinstance(doc.json, dict):
            return False
        context = doc.json.get("@context")
        return isinstance(context, str) and "spdx.org/rdf/" in context

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Index the graph by spdxId and turn each software_Package element into a PackageRecord."""
        root = require_object(doc, "SPDX 3")
        version = SUPPORTED_CONTEXTS.get(root["@context"])
        if version is None:
            raise DocumentError("unsupported_spec_version", f"unsupported SPDX context {root['@context']}", "/@context")
        graph = _graph(root)
        by_id = {element["spdxId"]: element for element in graph if "spdxId" in element}
        relationships = [e for e in graph if e["type"] in _RELATIONSHIP_TYPES]
        links = _relationship_targets(relationships)
        document = next((e for e in graph if e["type"] == "SpdxDocument"), None)
        packages = tuple(_package(e, by_id, links) for e in graph if e["type"] == "software_Package")
        return ParsedSbom(
            format="spdx",
            spec_version=version,
            encoding="json-ld",
            name=(document or {}).get("name"),
            packages=packages,
            relationships=dict(Counter(str(r.get("relationshipType")) for r in relationships)),
            describes=_describes(document, relationships),
            serial=(document or {}).get("spdxId"),
            counts={f"type:{t}": n for t, n in Counter(e["type"] for e in graph).items()} | {"elements": len(graph)},
        )


def _graph(root: dict[str, Any]) -> list[dict[str, Any]]:
    graph = root.get("@graph")
    if not isinstance(graph, list):
        raise DocumentError("invalid_document", "'@graph' must be an array of elements", "/@graph")
    for index, element in enumerate(graph):
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            path = json_pointer(["@graph", index, "type"])
            raise DocumentError("invalid_document", "every @graph element needs a string 'type'", path)
        if element["type"] == "software_Package" and not isinstance(element.get("name"), str):
            path = json_pointer(["@graph", index, "name"])
            raise DocumentError("invalid_document", "a software_Package needs a string 'name'", path)
    return graph


def _relationship_targets(relationships: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Map (from, relationshipType) to the `to` ids, for licence and supplier look-ups."""
    links: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rel in relationships:
        targets = rel.get("to") or []
        links[(str(rel.get("from")), str(rel.get("relationshipType")))].extend(
            targets if isinstance(targets, list) else [targets]
        )
    return links


def _package(
    element: dict[str, Any], by_id: dict[str, dict[str, Any]], links: dict[tuple[str, str], list[str]]
) -> PackageRecord:
    return PackageRecord(
        name=element["name"],
        version=element.get("software_packageVersion"),
        purl=element.get("software_packageUrl") or _purl_identifier(element),
        type=element.get("software_primaryPurpose"),
        license=_license(element.get("spdxId", ""), by_id, links),
        supplier=_name_of(element.get("suppliedBy"), by_id),
        ref=element.get("spdxId"),
    )


def _purl_identifier(element: dict[str, Any]) -> str | None:
    for identifier in element.get("externalIdentifier") or []:
        if isinstance(identifier, dict) and identifier.get("externalIdentifierType") == "packageUrl":
            return identifier.get("identifier")
    return None


def _license(spdx_id: str, by_id: dict[str, dict[str, Any]], links: dict[tuple[str, str], list[str]]) -> str | None:
    """Concluded licence when asserted, else the declared one (NOASSERTION counts as no value)."""
    for relationship_type in _LICENSE_RELATIONSHIPS:
        for target in links.get((spdx_id, relationship_type), []):
            expression = by_id.get(target, {}).get("simplelicensing_licenseExpression")
            if expression and expression != "NOASSERTION":
                return expression
    return None


def _name_of(ref: Any, by_id: dict[str, dict[str, Any]]) -> str | None:
    if isinstance(ref, dict):
        return ref.get("name")
    if isinstance(ref, str):
        return by_id.get(ref, {}).get("name", ref)
    return None


def _describes(document: dict[str, Any] | None, relationships: list[dict[str, Any]]) -> tuple[str, ...]:
    """Targets of `describes` relationships from the document, else the document's rootElement list."""
    if document is None:
        return ()
    described = [
        target
        for rel in relationships
        if rel.get("relationshipType") == "describes" and rel.get("from") == document.get("spdxId")
        for target in rel.get("to") or []
    ]
    return tuple(described or document.get("rootElement") or [])
