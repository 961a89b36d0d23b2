"""Parser registry, input decoding and the error type shared by every document parser."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lxml import etree

Kind = Literal["sbom", "sarif", "inspec"]
Syntax = Literal["json", "xml", "text"]

KINDS: tuple[str, ...] = ("sbom", "sarif", "inspec")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class DocumentError(Exception):
    """A document was refused; `code` is stable, `path` is a JSON pointer (or "line N") to the fault."""

    def __init__(self, code: str, detail: str, path: str = "") -> None:
        super().__init__(f"{code} at {path or '/'}: {detail}")
        self.code = code
        self.detail = detail
        self.path = path

    def as_dict(self) -> dict[str, str]:
        """Return the error in the API's error shape (code, detail, path)."""
        return {"code": self.code, "detail": self.detail, "path": self.path}


@dataclass(frozen=True)
class RawDocument:
    """An uploaded document after size check, decoding and syntax parsing (done once for all parsers)."""

    data: bytes
    text: str
    filename: str
    syntax: Syntax
    json: Any = None
    xml: etree._Element | None = None


class DocumentParser(Protocol):
    """What a registered format parser provides: a cheap sniff and a full parse."""

    kind: str
    fmt: str

    @classmethod
    def accepts(cls, doc: RawDocument) -> bool: ...

    @classmethod
    def parse(cls, doc: RawDocument) -> Any: ...


_REGISTRY: dict[tuple[str, str], type[DocumentParser]] = {}


def register_parser(kind: str, fmt: str) -> Callable[[type], type]:
    """Register a parser class for (kind, fmt); registering the same pair twice is a programming error."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {KINDS}")

    def decorator(cls: type) -> type:
        if (kind, fmt) in _REGISTRY:
            raise ValueError(f"a parser is already registered for ({kind!r}, {fmt!r}): {_REGISTRY[(kind, fmt)]!r}")
        cls.kind = kind
        cls.fmt = fmt
        _REGISTRY[(kind, fmt)] = cls
        return cls

    return decorator


def registered_parsers(kind: str | None = None) -> dict[tuple[str, str], type[DocumentParser]]:
    """Return a copy of the registry, optionally limited to one kind (registration order kept)."""
    return {key: cls for key, cls in _REGISTRY.items() if kind is None or key[0] == kind}


def unregister_parser(kind: str, fmt: str) -> None:
    """Remove a registration (for tests that register throw-away parsers)."""
    _REGISTRY.pop((kind, fmt), None)


def detect_and_parse(kind: str, data: bytes, *, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Decode `data`, find the registered parser of `kind` that recognises it, and return its parsed result."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {KINDS}")
    doc = read_document(data, filename=filename, max_bytes=max_bytes)
    candidates = registered_parsers(kind)
    for parser in candidates.values():
        if parser.accepts(doc):
            return parser.parse(doc)
    known = ", ".join(fmt for _, fmt in candidates) or "none"
    raise DocumentError("unsupported_format", f"not a recognised {kind} document (known formats: {known})", "")


def read_document(data: bytes, *, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> RawDocument:
    """Check size and encoding, then parse JSON or XML syntax so each format parser only sniffs structure."""
    if len(data) > max_bytes:
        raise DocumentError("too_large", f"document is {len(data)} bytes; the limit is {max_bytes}", "")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError("invalid_encoding", f"document is not UTF-8: {exc.reason}", f"byte {exc.start}") from exc
    stripped = text.lstrip()
    if not stripped:
        raise DocumentError("invalid_document", "document is empty", "")
    if stripped[0] in "{[":
        return RawDocument(data, text, filename, "json", json=_load_json(text))
    if stripped[0] == "<":
        return RawDocument(data, text, filename, "xml", xml=_load_xml(data))
    return RawDocument(data, text, filename, "text")


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # "Unterminated string" is only raised when the input ends inside a string: also a cut-off document.
        truncated = not text[exc.pos :].strip() or exc.msg.startswith("Unterminated string")
        code = "truncated" if truncated else "malformed_json"
        raise DocumentError(code, f"{exc.msg} (column {exc.colno})", f"line {exc.lineno}") from exc
    except RecursionError as exc:
        raise DocumentError("nesting_too_deep", "the document is nested too deeply to be read", "") from exc


def _xml_parser() -> etree.XMLParser:
    """A hardened lxml parser (one per document: lxml parsers are not shared between threads).

    No DTD is loaded, no entity resolved, nothing fetched from the network, libxml2's depth and size limits kept
    (``huge_tree`` off), comments and processing instructions dropped so only elements remain. A document that
    declares a DTD at all is refused after the parse (``_load_xml``), as defusedxml's ``forbid_dtd`` did: one parse,
    in C, instead of defusedxml's Python callbacks and a second parse for the schema (ADR 019).
    """
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def _load_xml(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        message = str(exc.msg or exc)
        if "depth" in message.lower():
            raise DocumentError("nesting_too_deep", "the document is nested too deeply to be read", "") from None
        at_end = line >= data.rstrip().count(b"\n") + 1
        cut = ("Premature end of data", "EndTag: '</' not found", "Couldn't find end of Start Tag", "expected '>'")
        code = "truncated" if at_end and any(text in message for text in cut) else "malformed_xml"
        raise DocumentError(code, message, f"line {line}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DocumentError("malformed_xml", "forbidden XML construct: a DTD (no DTDs or entities are accepted)", "")
    return root


def json_pointer(parts: Iterable[str | int]) -> str:
    """Build an RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def require_object(doc: RawDocument, fmt: str) -> dict[str, Any]:
    """Return the JSON root object or refuse a document whose root is not an object."""
    if not isinstance(doc.json, dict):
        raise DocumentError("invalid_document", f"a {fmt} document must be a JSON object", "")
    return doc.json
