"""CycloneDX 1.4-1.6 SBOMs (JSON and XML): schema-validate with cyclonedx-python-lib, then deserialize."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.xml import XmlValidator
from lxml.etree import XMLSyntaxError

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .cyclonedx_schema import schema_faults
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
        try:
            error = XmlValidator(SchemaVersion.from_version(version)).validate_str(doc.text)
        except XMLSyntaxError as exc:  # lxml refuses what it will not read (excessive depth, huge text nodes)
            code = "nesting_too_deep" if "depth" in str(exc).lower() else "invalid_document"
            raise DocumentError(code, f"the XML cannot be read: {str(exc)[:300]}", f"line {exc.lineno}") from None
        if error is not None:
            raise DocumentError("invalid_document", error.data.message[:500], f"line {error.data.line}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bom = Bom.from_xml(doc.xml)  # type: ignore[attr-defined]
        return _to_result(bom, version, "xml")


def _check_version(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise DocumentError("invalid_document", f"specVersion must be a string like '1.6', got {value!r}", path)
    if value not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        raise DocumentError("unsupported_spec_version", f"CycloneDX {value} is not supported ({supported})", path)
    return value


def _to_result(bom: Bom, version: str, encoding: str) -> ParsedSbom:
    packages = tuple(_record(c) for c in _walk(bom.components))
    edges = sum(len(dep.dependencies) for dep in bom.dependencies)
    meta = bom.metadata.component
    return ParsedSbom(
        format="cyclonedx",
        spec_version=version,
        encoding=encoding,  # type: ignore[arg-type]
        name=meta.name if meta is not None else None,
        packages=packages,
        relationships={"DEPENDS_ON": edges} if edges else {},
        describes=(meta.bom_ref.value or meta.name,) if meta is not None else (),
        serial=bom.serial_number.urn if bom.serial_number else None,
        counts={
            "components_top_level": len(bom.components),
            "dependencies": len(bom.dependencies),
            "vulnerabilities": len(bom.vulnerabilities),
            "services": len(bom.services),
        },
    )


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
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" if " " in p else p for p in parts)


def _walk(components: Iterable[Component]) -> Iterable[Component]:
    """Yield components depth-first including nested `components[].components` (not metadata, not pedigree)."""
    for component in components:
        yield component
        yield from _walk(component.components)


def _record(component: Component) -> PackageRecord:
    supplier = component.supplier.name if component.supplier is not None else None
    return PackageRecord(
        name=component.name,
        version=component.version,
        purl=str(component.purl) if component.purl is not None else None,
        type=component.type.value,
        license=_license(component),
        supplier=supplier or component.publisher,
        ref=component.bom_ref.value,
    )


def _license(component: Component) -> str | None:
    """One licence string: an expression as written, else the ids/names joined with AND (all listed apply)."""
    parts: list[str] = []
    for lic in component.licenses:
        if isinstance(lic, LicenseExpression):
            parts.append(lic.value)
        elif isinstance(lic, DisjunctiveLicense) and (lic.id or lic.name):
            parts.append(str(lic.id or lic.name))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" if " " in p else p for p in parts)


def _xml_version(element: Element) -> str:
    """The CycloneDX version carried by the root element's namespace."""
    return element.tag[len(_XML_NS_PREFIX) :].split("}", 1)[0]
