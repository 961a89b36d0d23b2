"""CycloneDX 1.4-1.6 SBOMs (JSON and XML): validated against the official schemas, then read linearly (ADR 019)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from lxml import etree

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .cyclonedx_schema import schema_faults, xml_licence_faults, xml_schema
from .results import PackageRecord, ParsedSbom

SUPPORTED_VERSIONS = ("1.4", "1.5", "1.6")
_XML_NS_PREFIX = "{http://cyclonedx.org/schema/bom/"


@register_parser("sbom", "cyclonedx-json")
class CycloneDxJsonParser:
    """CycloneDX JSON: recognised by `bomFormat` or `specVersion`, so a wrong bomFormat is refused, not ignored."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a JSON object carrying `bomFormat` or a CycloneDX-style `specVersion`."""
        return (
            doc.syntax == "json"
            and isinstance(doc.json, dict)
            and ("bomFormat" in doc.json or "specVersion" in doc.json)
        )

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Validate against the official JSON schema of the declared specVersion, then read the components.

        Linear in the document (ADR 019): the schema runs in jsonschema-rs, and once it holds every field read
        below has the type the schema gives it, so the components are read from the decoded JSON directly rather
        than through cyclonedx-python-lib's object model (60× ``json.loads`` at 10,000 components).
        """
        root = require_object(doc, "CycloneDX")
        version = _check_version(root.get("specVersion"), "/specVersion")
        fault = next(schema_faults(root, version), None)
        if fault is not None:
            raise DocumentError("invalid_document", fault.message, json_pointer(fault.path))
        return _json_result(root, version)


@register_parser("sbom", "cyclonedx-xml")
class CycloneDxXmlParser:
    """CycloneDX XML: the version is carried by the namespace (http://cyclonedx.org/schema/bom/1.5)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a root element in a CycloneDX namespace."""
        return doc.syntax == "xml" and doc.xml is not None and doc.xml.tag.startswith(_XML_NS_PREFIX)

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Validate against the XSD of the namespace's version, then build the model."""
        assert doc.xml is not None
        version = _check_version(_xml_version(doc.xml), "line 1")
        if doc.xml.tag.split("}", 1)[1] != "bom":
            raise DocumentError("invalid_document", "the root element must be <bom>", "line 1")
        schema = xml_schema(version)
        if not schema.schema.validate(doc.xml):  # the tree read once by the hardened parser (base._load_xml)
            error = schema.schema.error_log.last_error
            raise DocumentError("invalid_document", error.message[:500], f"line {error.line}")
        for line, value in xml_licence_faults(doc.xml, schema):
            message = f"licence id {value[:100]!r} is not on the SPDX licence list of CycloneDX {version}"
            raise DocumentError(
                "invalid_document", f"{message} (a <name> or an <expression> takes any other)", f"line {line}"
            )
        return _xml_result(doc.xml, version)


def _check_version(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise DocumentError("invalid_document", f"specVersion must be a string like '1.6', got {value!r}", path)
    if value not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        raise DocumentError("unsupported_spec_version", f"CycloneDX {value} is not supported ({supported})", path)
    return value


def _json_result(root: dict[str, Any], version: str) -> ParsedSbom:
    """The result from schema-valid CycloneDX JSON, every component listed (nested ones depth-first, in order)."""
    components = root.get("components") or []
    dependencies = root.get("dependencies") or []
    edges = sum(len(set(dep.get("dependsOn") or ())) for dep in dependencies)
    meta = (root.get("metadata") or {}).get("component")
    return ParsedSbom(
        format="cyclonedx",
        spec_version=version,
        encoding="json",
        name=meta.get("name") if meta else None,
        packages=tuple(_json_record(c) for c in _json_walk(components)),
        relationships={"DEPENDS_ON": edges} if edges else {},
        describes=(meta.get("bom-ref") or meta["name"],) if meta else (),
        serial=root.get("serialNumber"),
        counts={
            "components_top_level": len(components),
            "dependencies": len(dependencies),
            "vulnerabilities": len(root.get("vulnerabilities") or ()),
            "services": len(root.get("services") or ()),
        },
    )


def _xml_result(root: etree._Element, version: str) -> ParsedSbom:
    """The result from XSD-valid CycloneDX XML, read from the element tree like ``_json_result`` (ADR 019)."""
    ns = {"c": root.tag[1:].split("}", 1)[0]}
    tags = _xml_tags(ns["c"])
    components = root.find("c:components", ns)
    top = list(components.findall("c:component", ns)) if components is not None else []
    dependencies = root.find("c:dependencies", ns)
    declared = dependencies.findall("c:dependency", ns) if dependencies is not None else []
    edges = sum(len({d.get("ref") for d in dep.findall("c:dependency", ns)}) for dep in declared)
    meta = root.find("c:metadata/c:component", ns)
    name = meta.findtext("c:name", namespaces=ns) if meta is not None else None
    packages = []
    stack = [iter(top)]
    while stack:  # depth-first, nested components after their parent, without recursion
        component = next(stack[-1], None)
        if component is None:
            stack.pop()
            continue
        packages.append(_xml_record(component, tags))
        nested = component.find("c:components", ns)
        if nested is not None:
            stack.append(iter(nested.findall("c:component", ns)))
    vulnerabilities = root.find("c:vulnerabilities", ns)
    services = root.find("c:services", ns)
    return ParsedSbom(
        format="cyclonedx",
        spec_version=version,
        encoding="xml",
        name=name,
        packages=tuple(packages),
        relationships={"DEPENDS_ON": edges} if edges else {},
        describes=((meta.get("bom-ref") or name),) if meta is not None else (),
        serial=root.get("serialNumber"),
        counts={
            "components_top_level": len(top),
            "dependencies": len(declared),
            "vulnerabilities": len(vulnerabilities) if vulnerabilities is not None else 0,
            "services": len(services) if services is not None else 0,
        },
    )


_FIELD, _LICENSES, _SUPPLIER = 1, 2, 3


@functools.cache
def _xml_tags(namespace: str) -> dict[str, Any]:
    """The namespaced tags a component's reading compares with, built once per namespace (not once per element)."""
    prefix = "{" + namespace + "}"
    return {
        "children": {prefix + t: _FIELD for t in ("name", "version", "purl", "publisher")}
        | {prefix + "licenses": _LICENSES, prefix + "supplier": _SUPPLIER},
        "name": prefix + "name",
        "version": prefix + "version",
        "purl": prefix + "purl",
        "publisher": prefix + "publisher",
        "expression": prefix + "expression",
        "license": prefix + "license",
        "id_or_name": (prefix + "id", prefix + "name"),
    }


def _xml_record(component: etree._Element, tags: dict[str, Any]) -> PackageRecord:
    """One component from its direct children, each visited once and told apart by a dict lookup of its full tag.

    lxml builds a Python proxy (and a tag string) per element visited, the floor of this loop; ElementPath lookups
    per field cost 5× more, slicing every tag 1.3×.
    """
    fields: dict[str, str | None] = {}
    parts: list[str] = []
    supplier = None
    kinds = tags["children"]
    for child in component:
        tag = child.tag
        kind = kinds.get(tag)
        if kind == _FIELD:
            fields[tag] = _text(child.text)
        elif kind == _LICENSES:
            for choice in child:
                if choice.tag == tags["expression"] and choice.text:
                    parts.append(choice.text.strip())
                elif choice.tag == tags["license"]:
                    value = next((_text(x.text) for x in choice if x.tag in tags["id_or_name"]), None)
                    if value:
                        parts.append(value)
        elif kind == _SUPPLIER:
            supplier = next((_text(x.text) for x in child if x.tag == tags["name"]), None)
    return PackageRecord(
        name=fields.get(tags["name"]) or "",
        version=fields.get(tags["version"]),
        purl=fields.get(tags["purl"]),
        type=component.get("type"),
        license=_joined(parts),
        supplier=supplier or fields.get(tags["publisher"]),
        ref=component.get("bom-ref"),
    )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _json_walk(components: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Depth-first over ``components[]`` and their nested ``components[]``, without recursion (any depth)."""
    stack = [iter(components)]
    while stack:
        component = next(stack[-1], None)
        if component is None:
            stack.pop()
            continue
        yield component
        if component.get("components"):
            stack.append(iter(component["components"]))


def _json_record(component: dict[str, Any]) -> PackageRecord:
    supplier = component.get("supplier")
    return PackageRecord(
        name=component["name"],
        version=component.get("version"),
        purl=component.get("purl"),
        type=component["type"],
        license=_json_license(component.get("licenses")),
        supplier=(supplier.get("name") if supplier else None) or component.get("publisher"),
        ref=component.get("bom-ref"),
    )


def _json_license(licenses: list[dict[str, Any]] | None) -> str | None:
    """Like ``_license``: an expression as written, else the ids/names joined with AND."""
    parts: list[str] = []
    for choice in licenses or ():
        if "expression" in choice:
            parts.append(choice["expression"])
        elif "license" in choice and (choice["license"].get("id") or choice["license"].get("name")):
            parts.append(choice["license"].get("id") or choice["license"]["name"])
    return _joined(parts)


def _joined(parts: list[str]) -> str | None:
    """One licence string: an expression as written, else the ids/names joined with AND (all listed apply)."""
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" if " " in p else p for p in parts)


def _xml_version(element: etree._Element) -> str:
    """The CycloneDX version carried by the root element's namespace."""
    return element.tag[len(_XML_NS_PREFIX) :].split("}", 1)[0]
