"""Request parsers, every one bounded: a body is read at most up to its limit plus one byte, never whole first.

- JSON bodies (the default parser): at most ``QLRF_API_JSON_MAX_BYTES``; strict UTF-8; nesting at most
  ``QLRF_API_JSON_MAX_DEPTH`` deep, checked by a flat scan before decoding (no recursion, so no ``RecursionError``);
  no NUL character anywhere (PostgreSQL cannot store one in text or jsonb).
- Documents posted as they are (YAML contracts, SBOMs, scan results): at most the limit of their view.
- Multipart uploads: the upload handler stops at ``QLRF_UPLOAD_MAX_BYTES``.
Past a limit the answer is 413 ``too_large``; a bad body is 400 with a stable code (ADR 016).
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser

CHUNK = 64 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "the request body is too large"


class BadBody(exceptions.ParseError):
    """400 with a specific code (``nesting_too_deep``, ``invalid_encoding``, ``nul_character``, ``parse_error``)."""

    def __init__(self, detail: str, code: str):
        super().__init__(detail, code)


def read_bounded(stream, limit: int, what: str = "the request body") -> bytes:
    """At most ``limit`` bytes of ``stream``; 413 as soon as one more byte is there (never reads further)."""
    if stream is None:
        return b""
    parts, size = [], 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if size > limit:
        raise PayloadTooLarge(f"{what} is larger than the limit of {limit} bytes")
    return b"".join(parts)


def nesting_depth_check(text: str, limit: int) -> None:
    """Refuse JSON nested deeper than ``limit`` with one flat pass (strings skipped), before any decoder recurses."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise BadBody(f"the document is nested more than {limit} levels deep", "nesting_too_deep")
        elif char in "]}":
            depth -= 1


def decode_utf8(raw: bytes) -> str:
    try:
        return codecs.decode(raw, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not valid UTF-8 (byte {exc.start})", "invalid_encoding") from None


def refuse_nul(text: str) -> None:
    if "\x00" in text or "\\u0000" in text.lower():
        raise BadBody("the body contains a NUL character, which no field can hold", "nul_character")


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a size, depth, encoding and NUL check first."""

    def parse(self, stream, media_type=None, parser_context=None):
        text = decode_utf8(read_bounded(stream, settings.QLRF_API_JSON_MAX_BYTES, "the JSON body"))
        nesting_depth_check(text, settings.QLRF_API_JSON_MAX_DEPTH)
        refuse_nul(text)
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            raise BadBody(f"JSON parse error: {exc}", "parse_error") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _refuse_nul_values(data) -> None:
    """A form or multipart field holding NUL (``%00``) is refused as in JSON: PostgreSQL cannot store one."""
    for _, values in data.lists():
        if any("\x00" in value for value in values if isinstance(value, str)):
            raise BadBody("the body contains a NUL character, which no field can hold", "nul_character")


class BoundedFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        from django.http import QueryDict

        raw = read_bounded(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "the form body")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        data = QueryDict(raw, encoding=encoding)  # the bytes read above: the stream is spent
        _refuse_nul_values(data)
        return data


class BoundedMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_nul_values(parsed.data)
        return parsed


class UploadLimitHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: a multipart body over ``QLRF_UPLOAD_MAX_BYTES`` stops with 413."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.QLRF_UPLOAD_MAX_BYTES + CHUNK:
            raise PayloadTooLarge(f"the upload is larger than the limit of {settings.QLRF_UPLOAD_MAX_BYTES} bytes")

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.QLRF_UPLOAD_MAX_BYTES:
            raise PayloadTooLarge(f"the upload is larger than the limit of {settings.QLRF_UPLOAD_MAX_BYTES} bytes")
        return raw_data

    def file_complete(self, file_size):
        return None


class DocumentTooLarge(PayloadTooLarge):
    """413 for a document body over its limit, shaped like every document refusal (``errors`` with path and line;
    ``qlrf.api.exceptions`` renders ``document_errors``)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.document_errors = [{"path": "/", "line": 1, "code": "too_large", "detail": detail}]


class RawDocumentParser(BaseParser):
    """Hands the body over as bytes, bounded by the view's ``document_max_bytes`` (or the upload limit)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "document_max_bytes", None) or settings.QLRF_UPLOAD_MAX_BYTES
        try:
            return read_bounded(stream, limit, "the document")
        except PayloadTooLarge as exc:
            raise DocumentTooLarge(str(exc.detail)) from None


class YamlParser(RawDocumentParser):
    media_type = "application/yaml"


class TextParser(RawDocumentParser):
    media_type = "text/plain"
