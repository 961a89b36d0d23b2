"""SPDX 2.2/2.3 SBOMs (JSON and tag-value) through spdx-tools, reduced to a ParsedSbom."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

from ply import yacc
from spdx_tools.spdx.model import Actor, Document, Package, RelationshipType
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.tagvalue.parser import Parser as TagValueParser

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .findings import ValidationFinding, license_findings
from .results import PackageRecord, ParsedSbom

SUPPORTED_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_NO_VALUE = ("NOASSERTION", "NONE", "")
_LINE_RE = re.compile(r"[Ll]ine:? (\d+)")
_TAG_VERSION_RE = re.compile(r"^\s*SPDXVersion:\s*(\S+)", re.MULTILINE)
_TAG_RELATIONSHIP_RE = re.compile(r"^\s*Relationship:\s*\S+\s+(\S+)\s+\S+", re.MULTILINE)
_REQUIRED_JSON_KEYS = ("SPDXID", "name", "documentNamespace", "creationInfo", "dataLicense")

# Full spdx-tools validation (validate_full_spdx_document) is deliberately NOT a gate: the real Red Hat ubi9 SBOM
# yields 1301 messages for license references such as "LGPLV2+" that are not on the SPDX list. Refusing real vendor
# SBOMs for that would make the importer useless, so only parse errors (structure, types) refuse a document.


@register_parser("sbom", "spdx-json")
class SpdxJsonParser:
    """SPDX 2.x JSON documents (`spdxVersion` at the root)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise a JSON object carrying `spdxVersion`."""
        return doc.syntax == "json" and isinstance(doc.json, dict) and "spdxVersion" in doc.json

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Check version and required structure, then build the model with spdx-tools."""
        root = require_object(doc, "SPDX")
        version = _check_version(root.get("spdxVersion"), "/spdxVersion")
        _check_json_structure(root)
        root, repaired = _default_download_locations(root)
        try:
            document = JsonLikeDictParser().parse(root)
        except SPDXParsingError as exc:
            raise _parsing_error(exc, "") from exc
        declared = Counter(
            str(rel.get("relationshipType")) for rel in root.get("relationships") or [] if isinstance(rel, dict)
        )
        counts = {
            "files": len(root.get("files") or []),
            "snippets": len(root.get("snippets") or []),
            "has_files": sum(len(p.get("hasFiles") or []) for p in root.get("packages") or []),
            "document_describes": len(root.get("documentDescribes") or []),
        }
        result = _to_result(document, version, "json", dict(declared), counts)
        findings = repaired + license_findings(result.packages, path_of=lambda index: f"/packages/{index}")
        return replace(result, findings=tuple(findings))


@register_parser("sbom", "spdx-tag-value")
class SpdxTagValueParser:
    """SPDX 2.x tag-value documents (`SPDXVersion: SPDX-2.3` lines)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise plain text with an `SPDXVersion:` tag."""
        return doc.syntax == "text" and _TAG_VERSION_RE.search(doc.text) is not None

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Check the version line, then parse with the spdx-tools tag-value grammar."""
        match = _TAG_VERSION_RE.search(doc.text)
        assert match is not None  # accepts() guarantees it
        line = f"line {doc.text.count(chr(10), 0, match.start(1)) + 1}"
        version = _check_version(match.group(1), line)
        # A fresh parser per document: the spdx-tools parser keeps per-document state. No table files are written.
        parser = TagValueParser(write_tables=False, debug=False, errorlog=yacc.NullLogger())
        text, repaired = _default_tag_download_locations(doc.text)
        try:
            document = parser.parse(text)
        except SPDXParsingError as exc:
            raise _parsing_error(exc, "line 1") from exc
        declared = Counter(m.group(1) for m in _TAG_RELATIONSHIP_RE.finditer(doc.text))
        counts = {
            "files": len(document.files),
            "snippets": len(document.snippets),
            "document_describes": 0,
        }
        result = _to_result(document, version, "tag-value", dict(declared), counts)
        findings = repaired + license_findings(result.packages, path_of=lambda index: f"package {index + 1}")
        return replace(result, findings=tuple(findings))


_TAG_SECTION_RE = re.compile(r"^\s*(PackageName|FileName|SnippetSPDXID|LicenseID):", re.MULTILINE)
_TAG_DOWNLOAD_RE = re.compile(r"^\s*PackageDownloadLocation:", re.MULTILINE)


def _default_download_locations(root: dict[str, Any]) -> tuple[dict[str, Any], list[ValidationFinding]]:
    """A package without ``downloadLocation`` (required by SPDX 2.x) is read as NOASSERTION, with a finding."""
    findings: list[ValidationFinding] = []
    packages = root.get("packages") or []
    repaired = []
    for index, package in enumerate(packages):
        if "downloadLocation" not in package:
            findings.append(_missing_download(json_pointer(["packages", index, "downloadLocation"]), package["name"]))
            package = {**package, "downloadLocation": "NOASSERTION"}
        repaired.append(package)
    return ({**root, "packages": repaired} if findings else root), findings


def _default_tag_download_locations(text: str) -> tuple[str, list[ValidationFinding]]:
    """The tag-value form of the same repair: ``PackageDownloadLocation: NOASSERTION`` after a package's name."""
    sections = list(_TAG_SECTION_RE.finditer(text))
    findings: list[ValidationFinding] = []
    inserts: list[int] = []
    for number, section in enumerate(sections):
        if section.group(1) != "PackageName":
            continue
        end = sections[number + 1].start() if number + 1 < len(sections) else len(text)
        if _TAG_DOWNLOAD_RE.search(text, section.start(), end):
            continue
        line_end = text.find("\n", section.start())
        line_end = len(text) if line_end == -1 else line_end
        name = text[section.end() : line_end].strip()
        findings.append(_missing_download(f"line {text.count(chr(10), 0, section.start()) + 1}", name))
        inserts.append(line_end)
    for position in reversed(inserts):
        text = f"{text[:position]}\nPackageDownloadLocation: NOASSERTION{text[position:]}"
    return text, findings


def _missing_download(path: str, name: str) -> ValidationFinding:
    message = f"package {name!r} has no download location (required by SPDX 2.x); read as NOASSERTION"
    return ValidationFinding(path, "missing-download-location", message)


def _check_version(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.startswith("SPDX-"):
        raise DocumentError("invalid_document", f"spdxVersion must look like 'SPDX-2.3', got {value!r}", path)
    if value not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        raise DocumentError("unsupported_spec_version", f"{value} is not supported (supported: {supported})", path)
    return value.removeprefix("SPDX-")


def _check_json_structure(root: dict[str, Any]) -> None:
    """Point at the first structural fault spdx-tools would only report without a location."""
    for key in _REQUIRED_JSON_KEYS:
        if key not in root:
            raise DocumentError("invalid_document", f"required field {key!r} is missing", json_pointer([key]))
    for key in ("packages", "files", "snippets", "relationships"):
        if key in root and not isinstance(root[key], list):
            raise DocumentError("invalid_document", f"{key!r} must be an array", json_pointer([key]))
    for index, package in enumerate(root.get("packages") or []):
        if not isinstance(package, dict):
            raise DocumentError("invalid_document", "a package must be an object", json_pointer(["packages", index]))
        for key in ("SPDXID", "name"):
            if not isinstance(package.get(key), str):
                path = json_pointer(["packages", index, key])
                raise DocumentError("invalid_document", f"package {key!r} must be a string", path)


_INTERNAL_RE = re.compile(r"(\w+)\.__init__\(\) missing \d+ required (?:positional |keyword-only )?arguments?: ([^;]+)")


def _in_document_terms(message: str) -> str:
    """spdx-tools reports a missing field as a Python call error; say which SPDX field is missing instead."""

    def field_names(match: re.Match) -> str:
        fields = [name.strip(" '\"") for name in re.split(r",| and ", match.group(2)) if name.strip(" '\"")]
        spdx = ", ".join(_SPDX_FIELD_NAMES.get(name, name) for name in fields)
        return f"a {match.group(1)} lacks the required field(s) {spdx}"

    return _INTERNAL_RE.sub(field_names, message)


_SPDX_FIELD_NAMES = {
    "download_location": "PackageDownloadLocation / downloadLocation",
    "spdx_id": "SPDXID",
    "name": "name",
    "checksums": "checksums",
    "license_concluded": "licenseConcluded",
}


def _parsing_error(exc: SPDXParsingError, default_path: str) -> DocumentError:
    messages = [_in_document_terms(str(m)) for m in exc.get_messages()]
    text = "; ".join(messages)[:1000] or "SPDX document could not be parsed"
    match = _LINE_RE.search(text)
    return DocumentError("invalid_document", text, f"line {match.group(1)}" if match else default_path)


def _to_result(
    document: Document, version: str, encoding: str, declared: dict[str, int], counts: dict[str, int]
) -> ParsedSbom:
    doc_id = document.creation_info.spdx_id
    describes = tuple(
        rel.related_spdx_element_id
        for rel in document.relationships
        if rel.relationship_type == RelationshipType.DESCRIBES and rel.spdx_element_id == doc_id
    )
    # spdx-tools normalises documentDescribes / hasFiles / implicit tag-value containment into relationships,
    # so this count is the same for the JSON and tag-value forms of one document.
    effective = Counter(rel.relationship_type.name for rel in document.relationships)
    return ParsedSbom(
        format="spdx",
        spec_version=version,
        encoding=encoding,  # type: ignore[arg-type]
        name=document.creation_info.name,
        packages=tuple(_package_record(p) for p in document.packages),
        relationships=declared,
        describes=describes,
        serial=document.creation_info.document_namespace,
        counts={**counts, "relationships_effective": sum(effective.values())},
    )


def _package_record(package: Package) -> PackageRecord:
    purl = next((ref.locator for ref in package.external_references if ref.reference_type == "purl"), None)
    purpose = package.primary_package_purpose
    return PackageRecord(
        name=package.name,
        version=package.version,
        purl=purl,
        type=purpose.name.lower() if purpose is not None else None,
        license=_license(package),
        supplier=_actor_name(package.supplier),
        ref=package.spdx_id,
    )


def _license(package: Package) -> str | None:
    """Concluded licence when asserted, else the declared one; NOASSERTION becomes None."""
    for value in (package.license_concluded, package.license_declared):
        text = str(value) if value is not None else ""
        if text not in ("NOASSERTION", ""):
            return text
    return None


def _actor_name(actor: Actor | Any) -> str | None:
    if isinstance(actor, Actor):
        return actor.name
    text = str(actor) if actor is not None else ""
    return None if text in _NO_VALUE else text
