"""A direct reader for SPDX 2.x tag-value documents made of the creation info, packages, files and relationships
(ADR 019).

spdx-tools' PLY grammar costs about 0.6 ms per package (a Python token stream, a parser action and a type-checked
model object per line), 55–90× splitting the same lines. Most SBOMs of machine images are only a header, packages,
their files and relationships — what Trivy, Syft and distribution tools write —, and for that shape the grammar's
rules are few and line-local. This reader applies exactly those rules, line by line, and answers only when it is sure:

* every line is a tag the reader knows, with a value the grammar's lexer would turn into the token the rule accepts
  (``LINE``, ``TEXT``, ``NOASSERTION``/``NONE``, an actor, a date, a checksum), checked the way the rule checks it;
* each package has its name and SPDXID (and, after the repair ``spdx.py`` also applies, a download location), each
  file its SPDXID and a checksum; single-valued tags appear once; ``ExternalRefComment``/``RelationshipComment``
  directly follow their line; a file after a package is contained by it unless that relationship was stated before
  (the grammar's implicit ``CONTAINS``);
* the creation info builds (spdx-tools' own ``CreationInfo`` with its actor and date parsers).

Anything else — a snippet, extracted licence or annotation section, an external document reference, an unknown tag,
a value the grammar would refuse, a multi-line value this reader cannot place — answers ``None`` and the caller
parses the whole document with the grammar, which either builds it or refuses it with its own message and line.
So a document this reader accepts is one the grammar accepts, with the same packages and relationships
(``tests/compliance/parsers/test_spdx_tag_value_reader.py`` holds it to the grammar's model).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from license_expression import ExpressionError
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.datetime_conversions import datetime_from_str
from spdx_tools.spdx.model import (
    Actor,
    CreationInfo,
    ExternalPackageRefCategory,
    FileType,
    PackagePurpose,
    RelationshipType,
    Version,
)
from spdx_tools.spdx.parser.actor_parser import ActorParser
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.tagvalue.lexer import SPDXLexer

from .results import PackageRecord


class NotSimple(Exception):
    """The document is not one this reader is sure about: the grammar reads it."""


# The token the grammar's lexer makes of a value (after the tag's colon), in the lexer's order of rules.
TEXT, CHECKSUM, TOOL, ORGANIZATION, PERSON, DATE, LINE, NOASSERTION, NONE = (
    "TEXT",
    "CHECKSUM",
    "TOOL",
    "ORGANIZATION",
    "PERSON",
    "DATE",
    "LINE",
    "NOASSERTION",
    "NONE",
)
_CHECKSUM_ALGORITHMS = (  # as the lexer's CHECKSUM token lists them
    *("ADLER32", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3", "MD2", "MD4", "MD5", "MD6", "SHA1", "SHA224"),
    *("SHA256", "SHA384", "SHA512", "SHA3-256", "SHA3-384", "SHA3-512"),
)
_CHECKSUM_RE = re.compile(r"\s*(" + "|".join(map(re.escape, _CHECKSUM_ALGORITHMS)) + r"):\s*([a-f0-9]*)")
_ACTOR_RE = re.compile(r"\s*(Tool|Organization|Person):.")
_DATE_RE = re.compile(r"\s*\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_VERIFICATION_RE = re.compile(r"([0-9a-f]{40})\s*(\(excludes:\s*(.+)\))?", re.UNICODE)
_RESERVED = frozenset(SPDXLexer.reserved)
_ACTORS = {"Tool": TOOL, "Organization": ORGANIZATION, "Person": PERSON}
_KEYWORDS = frozenset({NOASSERTION, NONE})  # the two keywords a value may be (the token kind is the keyword)
# what may precede the first colon of a value the lexer reads as an actor or a checksum
_SPECIAL = frozenset(_ACTORS).union(_CHECKSUM_ALGORITHMS)


def _token(raw: str) -> tuple[str, str]:
    """(token kind, value) of one line's value as the grammar's lexer reads it; ``NotSimple`` when unsure."""
    if ":" in raw:
        if match := _CHECKSUM_RE.match(raw):
            if raw[match.end() :].strip():
                raise NotSimple  # the lexer would go on with the rest of the line
            return CHECKSUM, raw.strip()
        if match := _ACTOR_RE.match(raw):
            return _ACTORS[match.group(1)], raw.strip()
    value = raw.strip()
    if not value:
        raise NotSimple
    if value[0].isdigit() and (match := _DATE_RE.match(raw)):
        if raw[match.end() :].strip():
            raise NotSimple
        return DATE, value
    if value in _RESERVED:
        if value == "NOASSERTION":
            return NOASSERTION, value
        if value == "NONE":
            return NONE, value
        raise NotSimple  # a tag name as a value: the grammar reads a keyword token
    return LINE, value


_TEXTUAL = frozenset({TEXT, LINE, NOASSERTION, NONE})  # text_or_line / line_or_no_assertion_or_none
_LICENCE = frozenset({LINE, NOASSERTION, NONE})  # license_or_no_assertion_or_none
_SUPPLIER = frozenset({NOASSERTION, PERSON, ORGANIZATION})  # actor_or_no_assertion
_CREATOR = frozenset({PERSON, TOOL, ORGANIZATION})

# tag → (accepted tokens, single-valued) for the creation info and the package
_HEADER = {
    "SPDXVersion": ({LINE}, True),
    "DataLicense": ({LINE}, True),
    "DocumentName": ({LINE}, True),
    "DocumentNamespace": ({LINE}, True),
    "DocumentComment": (_TEXTUAL, True),
    "CreatorComment": (_TEXTUAL, True),
    "LicenseListVersion": ({LINE}, True),
    "Creator": (_CREATOR, False),
    "Created": ({DATE}, True),
}
_PACKAGE = {
    "PackageVersion": ({LINE}, True),
    "PackageFileName": ({LINE}, True),
    "PackageDownloadLocation": (_TEXTUAL, True),
    "PackageHomePage": (_TEXTUAL, True),
    "PackageCopyrightText": (_TEXTUAL, True),
    "PackageSummary": (_TEXTUAL, True),
    "PackageSourceInfo": (_TEXTUAL, True),
    "PackageDescription": (_TEXTUAL, True),
    "PackageComment": (_TEXTUAL, True),
    "PackageLicenseComments": (_TEXTUAL, True),
    "PackageSupplier": (_SUPPLIER, True),
    "PackageOriginator": (_SUPPLIER, True),
    "PackageChecksum": ({CHECKSUM}, False),
    "PackageVerificationCode": ({LINE}, True),
    "FilesAnalyzed": ({LINE}, True),
    "PackageLicenseConcluded": (_LICENCE, True),
    "PackageLicenseDeclared": (_LICENCE, True),
    "PackageLicenseInfoFromFiles": (_LICENCE, False),
    "PackageAttributionText": (_TEXTUAL, False),
    "PrimaryPackagePurpose": ({LINE}, True),
    "BuiltDate": ({DATE}, True),
    "ReleaseDate": ({DATE}, True),
    "ValidUntilDate": ({DATE}, True),
    "ExternalRef": ({LINE}, False),
}
_PACKAGE_NAME_RE = re.compile(r"^[ \t]*PackageName[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class SimpleDocument:
    """What ``spdx.py`` needs of a document the reader is sure about."""

    creation_info: CreationInfo
    packages: tuple[PackageRecord, ...]
    relationships: tuple[tuple[str, str, str], ...]  # as stated
    implicit_relationships: int  # CONTAINS of files that follow a package, not stated before the file (the grammar's)
    files: int
    missing_download: tuple[tuple[int, str], ...]  # (line, package name) of packages without a download location


def read_simple(text: str) -> SimpleDocument | None:
    """The document if it is header + packages + files + relationships and the grammar would build it, else ``None``."""
    try:
        return _read(text)
    except NotSimple:
        return None


def _logical_lines(text: str) -> list[str]:
    """The document's lines (the lexer counts "\n" only); a multi-line ``<text>`` value joined into its tag's line."""
    lines = text.split("\n")
    if "<text>" not in text:
        return lines  # the common case
    joined: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        tag, colon, raw = line.partition(":")
        if "<text>" in raw:
            value, number = _text(raw, lines, number)
            joined.append(_TextLine(tag, value))
        else:
            joined.append(line)
    return joined


class _TextLine(str):
    """A ``Tag: <text>…</text>`` line, however many lines it spanned; ``value`` is the inner text (a TEXT token)."""

    def __new__(cls, tag: str, value: str):
        line = super().__new__(cls, f"{tag}:")
        line.value = value
        return line


def _text(raw: str, lines: list[str], number: int) -> tuple[str, int]:
    """A ``<text>…</text>`` value, possibly over several lines: (inner text, next line index)."""
    if not raw.lstrip().startswith("<text>"):
        raise NotSimple
    parts = [raw]
    while "</text>" not in parts[-1]:
        if number >= len(lines):
            raise NotSimple  # unterminated: the grammar reports it
        parts.append(lines[number])
        number += 1
    joined = "\n".join(parts)
    end = joined.index("</text>") + len("</text>")
    if joined[end:].strip() or joined.count("<text>") != 1:
        raise NotSimple
    inner = joined.strip()[len("<text>") : -len("</text>")]
    if not inner:
        raise NotSimple  # "<text></text>": the grammar keeps the tags as the text
    return inner, number


_CHECKED = frozenset(
    {
        "FilesAnalyzed",
        "PackageVerificationCode",
        "PrimaryPackagePurpose",
        "PackageLicenseConcluded",
        "PackageLicenseDeclared",
        "BuiltDate",
        "ReleaseDate",
        "ValidUntilDate",
        "PackageSupplier",
        "PackageOriginator",
    }
)


# tag → (accepted tokens, single-valued) for a file (a file after a package is contained by it)
_FILE = {
    "FileType": ({LINE}, False),
    "FileChecksum": ({CHECKSUM}, False),
    "LicenseConcluded": (_LICENCE, True),
    "LicenseInfoInFile": (_LICENCE, False),
    "FileCopyrightText": (_TEXTUAL, True),
    "LicenseComments": (_TEXTUAL, True),
    "FileComment": (_TEXTUAL, True),
    "FileNotice": (_TEXTUAL, True),
    "FileContributor": ({LINE}, False),
    "FileAttributionText": (_TEXTUAL, False),
}
_FILE_TYPES = frozenset(FileType.__members__)


# What a tag does (the rule's kind) and which tokens its grammar rule accepts.
_SINGLE, _CHECKED_SINGLE, _MULTI, _NAME, _SPDXID, _EXTERNAL_REF, _RELATIONSHIP, _COMMENT, _HEAD, _CREATOR_TAG = range(
    10
)
_FILE_NAME, _FILE_SINGLE, _FILE_MULTI = range(10, 13)
_RULES: dict[str, tuple[int, frozenset]] = {
    **{
        tag: ((_CHECKED_SINGLE if tag in _CHECKED else _SINGLE) if single else _MULTI, frozenset(accepted))
        for tag, (accepted, single) in _PACKAGE.items()
    },
    **{tag: (_HEAD, frozenset(accepted)) for tag, (accepted, _single) in _HEADER.items()},
    "Creator": (_CREATOR_TAG, _CREATOR),
    "ExternalRef": (_EXTERNAL_REF, frozenset({LINE})),
    "PackageName": (_NAME, frozenset({LINE})),
    "SPDXID": (_SPDXID, frozenset({LINE})),
    "Relationship": (_RELATIONSHIP, frozenset({LINE})),
    "ExternalRefComment": (_COMMENT, _TEXTUAL),
    "RelationshipComment": (_COMMENT, _TEXTUAL),
    "FileName": (_FILE_NAME, frozenset({LINE})),
    **{
        tag: (_FILE_SINGLE if single else _FILE_MULTI, frozenset(accepted)) for tag, (accepted, single) in _FILE.items()
    },
}


def _read(text: str) -> SimpleDocument:
    header: dict[str, object] = {}
    creators: list[Actor] = []
    packages: list[dict[str, str]] = []
    relationships: list[tuple[str, str, str]] = []
    current: dict[str, str] | None = None  # the package being read
    files: list[dict[str, object]] = []
    current_file: dict[str, object] | None = None  # the file being read
    previous = ""  # the tag of the line before: a comment line must follow its ExternalRef / Relationship
    rules, reserved, special = _RULES, _RESERVED, _SPECIAL
    valid: dict[str, set[str]] = {tag: set() for tag in _CHECKED}  # per tag, the values already checked
    commented: set[int] = set()  # relationships stated with a comment (never equal to an implicit one)
    for line in _logical_lines(text):
        tag, colon, raw = line.partition(":")
        rule = rules.get(tag)
        if rule is None:
            stripped = tag.strip(" \t")
            if not colon and (not stripped or stripped[0] == "#") or stripped[:1] == "#":
                continue  # blank line or comment
            rule = rules.get(stripped)
            if rule is None:
                raise NotSimple  # files, snippets, licences, annotations, external document refs, unknown tags, junk
            tag = stripped
        if line.__class__ is _TextLine:
            kind, value = TEXT, line.value
        else:
            value = raw.strip()
            if value in reserved or not value:
                kind = value if value in _KEYWORDS else _token(raw)[0]
            elif (":" in value and value.partition(":")[0] in special) or (value[0].isdigit() and value[4:5] == "-"):
                kind, value = _token(raw)  # an actor, a checksum or a date
            else:
                kind = LINE
        action, accepted = rule
        if kind not in accepted:
            raise NotSimple
        if action == _SINGLE:
            if current is None or tag in current:
                raise NotSimple
            current[tag] = value
        elif action == _CHECKED_SINGLE:
            if current is None or tag in current:
                raise NotSimple
            known = valid[tag]
            if value not in known:  # values repeat (licences, suppliers, "false"): each is checked once
                _check_package_value(tag, kind, value)
                known.add(value)
            current[tag] = value
        elif action == _NAME:
            current, current_file = {"PackageName": value}, None
            packages.append(current)
        elif action == _SPDXID:
            if "spdx_id" not in header:
                header["spdx_id"] = value  # the grammar's rule: the first SPDXID is the document's
            elif current is not None and "SPDXID" not in current:
                current["SPDXID"] = value
            elif current_file is not None and "SPDXID" not in current_file:
                current_file["SPDXID"] = value
            else:
                raise NotSimple
        elif action == _EXTERNAL_REF:
            if current is None:
                raise NotSimple
            _external_ref(current, value)
        elif action == _RELATIONSHIP:
            relationships.append(_relationship(value))
            current = current_file = None  # a relationship closes the package or file before it
        elif action == _MULTI:
            if current is None:
                raise NotSimple
            if kind == LINE and tag == "PackageLicenseInfoFromFiles":
                _licence(value)
        elif action == _COMMENT:
            if previous != tag[: -len("Comment")]:
                raise NotSimple
            if tag == "RelationshipComment":
                commented.add(len(relationships) - 1)
        elif action == _FILE_NAME:
            # a file after a package is contained by the last package (the grammar's implicit relationship)
            container = packages[-1] if packages else None
            current_file, current = {"FileName": value, " container": container, " stated": len(relationships)}, None
            files.append(current_file)
        elif action in (_FILE_SINGLE, _FILE_MULTI):
            if current_file is None or (action == _FILE_SINGLE and tag in current_file):
                raise NotSimple
            _check_file_value(tag, kind, value)
            current_file[tag] = value
        elif action == _CREATOR_TAG:
            creators.append(_actor(value))
        else:  # _HEAD
            if tag in header:
                raise NotSimple
            header[tag] = value
        previous = tag
    creation_info = _creation_info(header, creators)
    records = tuple(map(_record, packages))
    implicit = _implicit_containment(files, relationships, commented)
    missing = [index for index, package in enumerate(packages) if "PackageDownloadLocation" not in package]
    return SimpleDocument(
        creation_info=creation_info,
        packages=records,
        relationships=tuple(relationships),
        implicit_relationships=implicit,
        files=len(files),
        missing_download=_package_lines(text, missing, packages),
    )


def _package_lines(text: str, indexes: list[int], packages: list[dict[str, str]]) -> tuple[tuple[int, str], ...]:
    """(line, name) of the packages at ``indexes`` (their ``PackageName`` lines), counted only when needed."""
    if not indexes:
        return ()
    starts = [match.start() for match in _PACKAGE_NAME_RE.finditer(text)]
    return tuple((text.count("\n", 0, starts[index]) + 1, packages[index]["PackageName"]) for index in indexes)


def _check_package_value(tag: str, kind: str, value: str) -> None:
    if tag == "FilesAnalyzed" and value not in ("true", "false"):
        raise NotSimple
    if tag == "PackageVerificationCode" and not _VERIFICATION_RE.match(value):
        raise NotSimple
    if tag == "PrimaryPackagePurpose" and value.replace("-", "_") not in _PURPOSES:
        raise NotSimple
    if kind == LINE and tag in ("PackageLicenseConcluded", "PackageLicenseDeclared"):
        _licence(value)
    if tag in ("BuiltDate", "ReleaseDate", "ValidUntilDate"):
        _date(value)
    if tag in ("PackageSupplier", "PackageOriginator") and kind != NOASSERTION:
        _actor_name(value)


_REF_CATEGORIES = frozenset(ExternalPackageRefCategory.__members__)
_RELATIONSHIP_TYPES = frozenset(RelationshipType.__members__)
_PURPOSES = frozenset(PackagePurpose.__members__)


def _check_file_value(tag: str, kind: str, value: str) -> None:
    if tag == "FileType" and value not in _FILE_TYPES:
        raise NotSimple
    if kind == LINE and tag in ("LicenseConcluded", "LicenseInfoInFile"):
        _licence(value)


def _implicit_containment(files: list[dict], relationships: list[tuple[str, str, str]], commented: set[int]) -> int:
    """How many ``CONTAINS`` relationships the grammar adds for files that follow a package: one per such file unless
    the same relationship (without a comment) was stated before the file, or already added for an earlier file."""
    if any("SPDXID" not in file or "FileChecksum" not in file for file in files):
        raise NotSimple  # the grammar refuses a file without SPDXID or checksum: let it say so
    first_stated: dict[tuple[str, str, str], int] = {}
    for index, relationship in enumerate(relationships):
        if index not in commented:
            first_stated.setdefault(relationship, index)
    added: set[tuple[str, str, str]] = set()
    for file in files:
        container = file[" container"]
        if container is None:
            continue
        if "SPDXID" not in container:
            raise NotSimple
        relationship = (container["SPDXID"], "CONTAINS", file["SPDXID"])
        if first_stated.get(relationship, len(relationships)) < file[" stated"] or relationship in added:
            continue
        added.add(relationship)
    return len(added)


_PURL = " purl"  # the package's first purl (a key no tag can be)


def _external_ref(package: dict[str, str], value: str) -> None:
    parts = value.split(" ")
    if len(parts) != 3 or parts[0].replace("-", "_") not in _REF_CATEGORIES:
        raise NotSimple
    if parts[1] == "purl" and _PURL not in package:
        package[_PURL] = parts[2]


def _relationship(value: str) -> tuple[str, str, str]:
    parts = value.split(" ")
    if len(parts) != 3 or parts[1] not in _RELATIONSHIP_TYPES:
        raise NotSimple
    if parts[1] == "DESCRIBES" and parts[2] in ("NONE", "NOASSERTION"):
        raise NotSimple  # what the document describes would be the grammar's NONE / NOASSERTION objects
    return parts[0], parts[1], parts[2]


def _creation_info(header: dict[str, object], creators: list[Actor]) -> CreationInfo:
    required = ("spdx_id", "SPDXVersion", "DocumentName", "DocumentNamespace", "Created")
    if any(key not in header for key in required) or not creators:
        raise NotSimple
    try:
        return CreationInfo(
            spdx_version=header["SPDXVersion"],
            spdx_id=header["spdx_id"],
            name=header["DocumentName"],
            document_namespace=header["DocumentNamespace"],
            creators=creators,
            created=_date(header["Created"]),
            creator_comment=header.get("CreatorComment"),
            data_license=header.get("DataLicense", "CC0-1.0"),
            license_list_version=(
                Version.from_string(header["LicenseListVersion"]) if "LicenseListVersion" in header else None
            ),
            document_comment=header.get("DocumentComment"),
        )
    except (TypeError, ValueError, SPDXParsingError) as exc:
        raise NotSimple from exc


def _record(package: dict[str, str]) -> PackageRecord:
    """The package as ``spdx._package_record`` reads the grammar's model of it."""
    if "SPDXID" not in package:
        raise NotSimple  # the grammar refuses a package without SPDXID: let it say so
    purpose = package.get("PrimaryPackagePurpose")
    supplier = package.get("PackageSupplier")
    return PackageRecord(
        name=package["PackageName"],
        version=package.get("PackageVersion"),
        purl=package.get(_PURL),
        type=purpose.replace("-", "_").lower() if purpose else None,
        license=_package_licence(package.get("PackageLicenseConcluded"), package.get("PackageLicenseDeclared")),
        supplier=_actor_name(supplier) if supplier and supplier != "NOASSERTION" else None,
        ref=package["SPDXID"],
    )


def _package_licence(*values: str | None) -> str | None:
    """Concluded licence when asserted, else the declared one; NOASSERTION is none (a LINE is never a keyword)."""
    for value in values:
        if value == "NONE":
            return "NONE"
        if value is not None and value != "NOASSERTION":
            text = _licence(value)
            if text not in ("NOASSERTION", ""):
                return text
    return None


@functools.lru_cache(maxsize=8192)
def _licence(value: str) -> str:
    """The expression as the grammar's licence rule reads it, once per distinct text."""
    try:
        return str(spdx_licensing.parse(value))
    except ExpressionError as exc:
        raise NotSimple from exc


@functools.lru_cache(maxsize=8192)
def _actor_name(value: str) -> str:
    return _actor(value).name


def _actor(value: str) -> Actor:
    try:
        return ActorParser.parse_actor(value)
    except SPDXParsingError as exc:
        raise NotSimple from exc


def _date(value: object):
    try:
        return datetime_from_str(value)
    except (TypeError, ValueError) as exc:
        raise NotSimple from exc
