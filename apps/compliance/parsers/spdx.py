"""SPDX 2.2/2.3 SBOMs, reduced to a ParsedSbom: JSON validated by the official schema and read directly (ADR 019),
tag-value through spdx-tools' grammar."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from spdx_tools.spdx.model import Actor, Document, Package, PackagePurpose, RelationshipType
from spdx_tools.spdx.parser.actor_parser import ActorParser
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.jsonlikedict.license_expression_parser import LicenseExpressionParser

from .base import DocumentError, RawDocument, json_pointer, register_parser, require_object
from .findings import ValidationFinding, license_findings
from .results import PackageRecord, ParsedSbom
from .spdx_schema import schema_faults
from .spdx_tagvalue import tag_value_parser
from .spdx_tagvalue_reader import SimpleDocument, read_simple

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
        """Validate against the official SPDX JSON schema, then read the packages from the decoded JSON (ADR 019).

        The document-level parts (creation info, files, snippets, licensing info) still go through spdx-tools, which
        checks what the schema cannot (dates, creators); the packages and relationships — nearly all of a large
        document — are read directly once the schema holds, their licences and suppliers through spdx-tools' own
        expression and actor parsers, once per distinct value. Linear: 100,000 packages in a few times ``json.loads``.
        """
        root = require_object(doc, "SPDX")
        version = _check_version(root.get("spdxVersion"), "/spdxVersion")
        _check_json_structure(root)
        findings = _schema_findings(root, version)
        skeleton = {key: value for key, value in root.items() if key not in _READ_DIRECTLY}
        try:
            document = JsonLikeDictParser().parse(skeleton)
        except SPDXParsingError as exc:
            raise _parsing_error(exc, "") from exc
        packages = root.get("packages") or []
        records = tuple(_json_package(package, index) for index, package in enumerate(packages))
        declared = Counter(str(rel.get("relationshipType")) for rel in root.get("relationships") or [])
        effective, describes = _json_relationships(root, packages)
        counts = {
            "files": len(root.get("files") or []),
            "snippets": len(root.get("snippets") or []),
            "has_files": sum(len(p.get("hasFiles") or []) for p in packages),
            "document_describes": len(root.get("documentDescribes") or []),
            "relationships_effective": effective,
        }
        findings += license_findings(records, path_of=lambda index: f"/packages/{index}")
        return ParsedSbom(
            format="spdx",
            spec_version=version,
            encoding="json",
            name=document.creation_info.name,
            packages=records,
            relationships=dict(declared),
            describes=describes,
            serial=document.creation_info.document_namespace,
            counts=counts,
            findings=tuple(findings),
        )


@register_parser("sbom", "spdx-tag-value")
class SpdxTagValueParser:
    """SPDX 2.x tag-value documents (`SPDXVersion: SPDX-2.3` lines)."""

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool:
        """Recognise plain text with an `SPDXVersion:` tag."""
        return doc.syntax == "text" and _TAG_VERSION_RE.search(doc.text) is not None

    @classmethod
    def parse(cls, doc: RawDocument) -> ParsedSbom:
        """Check the version line; read a header + packages + files + relationships document directly
        (``spdx_tagvalue_reader``), any other through spdx-tools' tag-value grammar — the same result either way.

        Windows line ends are read as line ends: spdx-tools' lexer knows only "\n" and, meeting a "\r", lost the
        tokens around it and refused a well-formed document.
        """
        text = doc.text.replace("\r\n", "\n")
        version = _tag_version(text)
        simple = read_simple(text)
        if simple is not None:
            return _simple_result(simple, version, dict(Counter(kind for _s, kind, _t in simple.relationships)))
        return tag_value_by_grammar(text, version)


def _tag_version(text: str) -> str:
    match = _TAG_VERSION_RE.search(text)
    assert match is not None  # accepts() guarantees it
    return _check_version(match.group(1), f"line {text.count(chr(10), 0, match.start(1)) + 1}")


def _declared_relationships(text: str) -> dict[str, int]:
    return dict(Counter(m.group(1) for m in _TAG_RELATIONSHIP_RE.finditer(text)))


def tag_value_by_grammar(text: str, version: str) -> ParsedSbom:
    """A tag-value document read by spdx-tools' grammar (every shape; the reference the direct reader is held to)."""
    parser = tag_value_parser()  # one parser per document (spdx_tagvalue.py)
    repaired_text, repaired = _default_tag_download_locations(text)
    try:
        document = parser.parse(repaired_text)
    except SPDXParsingError as exc:
        raise _parsing_error(exc, "line 1") from exc
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # spdx-tools' own fault on some invalid lines (its error rule for a Relationship line raises KeyError): the
        # document is still invalid, and the user hears it in the document's terms, never as a stack trace
        raise DocumentError("invalid_document", _grammar_fault(exc), "line 1") from exc
    counts = {"files": len(document.files), "snippets": len(document.snippets), "document_describes": 0}
    result = _to_result(document, version, "tag-value", _declared_relationships(text), counts)
    findings = repaired + license_findings(result.packages, path_of=lambda index: f"package {index + 1}")
    return replace(result, findings=tuple(findings))


def _grammar_fault(exc: Exception) -> str:
    tag = exc.args[0] if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) else ""
    if tag.isalpha():
        return f"a {tag} line has a value SPDX tag-value does not allow there"
    return "the document could not be read as SPDX tag-value: a line's value does not fit its tag"


def _simple_result(simple: SimpleDocument, version: str, declared: dict[str, int]) -> ParsedSbom:
    doc_id = simple.creation_info.spdx_id
    findings = [_missing_download(f"line {line}", name) for line, name in simple.missing_download]
    findings += license_findings(simple.packages, path_of=lambda index: f"package {index + 1}")
    return ParsedSbom(
        format="spdx",
        spec_version=version,
        encoding="tag-value",
        name=simple.creation_info.name,
        packages=simple.packages,
        relationships=declared,
        describes=tuple(
            target for source, kind, target in simple.relationships if kind == "DESCRIBES" and source == doc_id
        ),
        serial=simple.creation_info.document_namespace,
        counts={
            "files": simple.files,
            "snippets": 0,
            "document_describes": 0,
            "relationships_effective": len(simple.relationships) + simple.implicit_relationships,
        },
        findings=tuple(findings),
    )


_TAG_SECTION_RE = re.compile(r"^[ \t]*(PackageName|FileName|SnippetSPDXID|LicenseID):", re.MULTILINE)
_TAG_DOWNLOAD_RE = re.compile(r"^[ \t]*PackageDownloadLocation[ \t]*:", re.MULTILINE)


_READ_DIRECTLY = ("packages", "relationships", "documentDescribes")
# Departures from the official schema that are tolerated and listed as findings: a field spdx-tools reads as absent
# or NOASSERTION when it is missing (SPDX 2.2 requires copyright and licences on every package; real tools omit them),
# and a property the schema does not name (ignored). Anything else — a wrong type, a value outside an enumeration, a
# missing SPDXID or name — changes what the document means and refuses it, with the path of the fault.
_TOLERATED_MISSING = frozenset(
    {
        "downloadLocation",
        "copyrightText",
        "licenseConcluded",
        "licenseDeclared",
        "licenseInfoFromFiles",
        "licenseInfoInFiles",
    }
)


def _schema_findings(root: dict[str, Any], version: str) -> list[ValidationFinding]:
    findings: list[ValidationFinding] = []
    for fault in schema_faults(root, version):  # every fault: the count of findings is the true total
        if fault.rule == "required" and fault.names and fault.names[0] in _TOLERATED_MISSING:
            findings.append(_missing_field(fault.path, fault.names[0], root))
        elif fault.rule == "additionalProperties" and fault.names:
            # One finding per object, however many unknown properties it carries (bounded by the objects read).
            names = ", ".join(repr(name) for name in fault.names[:10]) + (" …" if len(fault.names) > 10 else "")
            verb = "is not a property" if len(fault.names) == 1 else "are not properties"
            message = f"{names} {verb} of SPDX {version} here (ignored)"
            findings.append(ValidationFinding(json_pointer((*fault.path, fault.names[0])), "unknown-property", message))
        else:
            raise DocumentError("invalid_document", fault.message, json_pointer(fault.path))
    return findings


def _missing_field(path: tuple[str | int, ...], name: str, root: dict[str, Any]) -> ValidationFinding:
    pointer = json_pointer((*path, name))
    if name == "downloadLocation" and len(path) == 2 and path[0] == "packages":
        return _missing_download(pointer, root["packages"][path[1]]["name"])
    message = f"required field {name!r} is missing; read as NOASSERTION"
    return ValidationFinding(pointer, "missing-required-field", message)


def _json_package(package: dict[str, Any], index: int) -> PackageRecord:
    """A schema-valid package read directly; licences and supplier parsed as spdx-tools parses them."""
    purl = next(
        (ref["referenceLocator"] for ref in package.get("externalRefs") or () if ref.get("referenceType") == "purl"),
        None,
    )
    purpose = package.get("primaryPackagePurpose")
    licence = None
    for key in ("licenseConcluded", "licenseDeclared"):
        if key in package:
            text = _licence_text(package[key], f"/packages/{index}/{key}")
            if text not in ("NOASSERTION", ""):
                licence = text
                break
    supplier = package.get("supplier")
    return PackageRecord(
        name=package["name"],
        version=package.get("versionInfo"),
        purl=purl,
        type=_purpose(purpose) if isinstance(purpose, str) else None,
        license=licence,
        supplier=_actor_text(supplier, f"/packages/{index}/supplier") if supplier is not None else None,
        ref=package["SPDXID"],
    )


def _licence_text(value: Any, path: str) -> str:
    try:
        return _parsed_licence(value) if isinstance(value, str) else ""
    except SPDXParsingError as exc:
        raise _parsing_error(exc, path) from exc


@functools.lru_cache(maxsize=8192)
def _parsed_licence(value: str) -> str:
    """The licence expression as spdx-tools reads it (normalised), once per distinct text."""
    parsed = LicenseExpressionParser.parse_license_expression(value)
    return str(parsed) if parsed is not None else ""


def _actor_text(value: Any, path: str) -> str | None:
    if not isinstance(value, str) or value in _NO_VALUE:
        return None
    try:
        return _parsed_actor(value)
    except SPDXParsingError as exc:
        raise _parsing_error(exc, path) from exc


@functools.lru_cache(maxsize=8192)
def _parsed_actor(value: str) -> str | None:
    return _actor_name(ActorParser.parse_actor(value))


def _purpose(value: str) -> str | None:
    name = value.replace("-", "_").upper()
    return name.lower() if name in PackagePurpose.__members__ else None


_INVERSE = {"DESCRIBES": "DESCRIBED_BY", "CONTAINS": "CONTAINED_BY"}


def _json_relationships(root: dict[str, Any], packages: list[dict[str, Any]]) -> tuple[int, tuple[str, ...]]:
    """Relationships as spdx-tools normalises them, in linear time: (effective count, what the document describes).

    ``documentDescribes`` and ``hasFiles`` become DESCRIBES / CONTAINS relationships unless the document already states
    them or their inverse (spdx-tools' rule, checked here against a set instead of a list scan).
    """
    doc_id = root["SPDXID"]
    stated = [
        (rel["spdxElementId"], rel["relationshipType"], rel["relatedSpdxElement"])
        for rel in root.get("relationships") or ()
    ]
    existing = set(stated)

    def new(source: str, kind: str, target: str, known: set) -> bool:
        return (source, kind, target) not in known and (target, _INVERSE[kind], source) not in known

    described = [
        (doc_id, "DESCRIBES", target)
        for target in dict.fromkeys(root.get("documentDescribes") or ())
        if new(doc_id, "DESCRIBES", target, existing)
    ]
    known = existing.union(described)
    contained = [
        (package["SPDXID"], "CONTAINS", target)
        for package in packages
        for target in dict.fromkeys(package.get("hasFiles") or ())
        if new(package["SPDXID"], "CONTAINS", target, known)
    ]
    relationships = stated + described
    describes = tuple(t for s, kind, t in relationships if kind == "DESCRIBES" and s == doc_id)
    return len(relationships) + len(contained), describes


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
