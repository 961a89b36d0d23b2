"""Where a vSphere VM or template states its image family and version: the ordered ``version_sources`` of the config.

A source is ``"annotation"`` (a ``qlrf.image=<family>@<version>`` line, or a configurable regex with named groups
``family`` and ``version``), ``"extra_config"`` (advanced settings), ``"custom_attribute"`` (vCenter custom fields) or
``"content_library"`` (the library item id kept in extraConfig, resolved through the vAPI REST API). The first source
that yields a version wins.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .base import ConnectorError

SOURCE_KINDS = ("annotation", "extra_config", "custom_attribute", "content_library")
DEFAULT_SOURCES = ("extra_config", "annotation")
DEFAULT_ANNOTATION_PATTERN = r"^\s*qlrf\.image\s*=\s*(?P<family>[^@\s]+)@(?P<version>\S+)\s*$"
DEFAULT_VERSION_KEY = "qlrf.image.version"
DEFAULT_FAMILY_KEY = "qlrf.image.family"
DEFAULT_LIBRARY_ITEM_KEY = "qlrf.image.library_item"
TEMPLATE_UUID_KEY = "qlrf.image.template_uuid"

SOURCE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "enum": list(SOURCE_KINDS)},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["source"],
            "properties": {
                "source": {"const": "annotation"},
                "pattern": {
                    "type": "string",
                    "minLength": 1,
                    "description": "regex with (?P<version>…) and optionally (?P<family>…); searched line by line",
                },
            },
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["source"],
            "properties": {
                "source": {"enum": ["extra_config", "custom_attribute"]},
                "version_key": {"type": "string", "minLength": 1, "default": DEFAULT_VERSION_KEY},
                "family_key": {"type": "string", "minLength": 1, "default": DEFAULT_FAMILY_KEY},
            },
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["source"],
            "properties": {
                "source": {"const": "content_library"},
                "item_key": {"type": "string", "minLength": 1, "default": DEFAULT_LIBRARY_ITEM_KEY},
            },
        },
    ]
}


@dataclasses.dataclass(frozen=True)
class ImageVersion:
    """What one source said: the family (may be empty), the version, which source, and a library item id if any."""

    family: str
    version: str
    source: str
    library_item: str = ""


@dataclasses.dataclass(frozen=True)
class VersionSource:
    """One configured source with its defaults applied."""

    kind: str
    pattern: re.Pattern[str] | None = None
    version_key: str = DEFAULT_VERSION_KEY
    family_key: str = DEFAULT_FAMILY_KEY
    item_key: str = DEFAULT_LIBRARY_ITEM_KEY


@dataclasses.dataclass(frozen=True)
class VmFacts:
    """The properties of a VM or template that version sources read."""

    annotation: str
    extra_config: Mapping[str, str]
    custom_attributes: Mapping[str, str]


LibraryLookup = Callable[[str], "ImageVersion | None"]  # library item id → its family/version (None: unknown item)


def compile_annotation_pattern(pattern: str | None) -> re.Pattern[str]:
    """Compile an annotation regex (multiline); raise ConnectorError unless it is valid and has a ``version`` group."""
    try:
        compiled = re.compile(pattern or DEFAULT_ANNOTATION_PATTERN, re.MULTILINE)
    except re.error as exc:
        raise ConnectorError(f"version_sources: annotation pattern is not a valid regex: {exc}") from None
    if "version" not in compiled.groupindex:
        raise ConnectorError("version_sources: annotation pattern needs a named group (?P<version>...)")
    return compiled


def parse_sources(raw: Sequence[str | dict[str, Any]] | None) -> tuple[VersionSource, ...]:
    """Turn the config's ``version_sources`` (strings or objects) into VersionSource values, in order."""
    sources = []
    for entry in raw or DEFAULT_SOURCES:
        spec = {"source": entry} if isinstance(entry, str) else dict(entry)
        kind = spec["source"]
        if kind not in SOURCE_KINDS:
            raise ConnectorError(f"version_sources: unknown source {kind!r}")
        sources.append(
            VersionSource(
                kind=kind,
                pattern=compile_annotation_pattern(spec.get("pattern")) if kind == "annotation" else None,
                version_key=spec.get("version_key", DEFAULT_VERSION_KEY),
                family_key=spec.get("family_key", DEFAULT_FAMILY_KEY),
                item_key=spec.get("item_key", DEFAULT_LIBRARY_ITEM_KEY),
            )
        )
    return tuple(sources)


def parse_annotation(text: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    """(family, version) from the first line of ``text`` the pattern matches, or None."""
    match = pattern.search(text or "")
    if not match or not match.group("version"):
        return None
    family = match.group("family") if "family" in pattern.groupindex else ""
    return (family or "").strip(), match.group("version").strip()


def resolve_version(
    facts: VmFacts, sources: Sequence[VersionSource], library: LibraryLookup | None = None
) -> ImageVersion | None:
    """The first source (in configured order) that yields a version for this VM, or None."""
    for source in sources:
        found = _read_source(facts, source, library)
        if found is not None:
            return found
    return None


def _read_source(facts: VmFacts, source: VersionSource, library: LibraryLookup | None) -> ImageVersion | None:
    if source.kind == "annotation":
        parsed = parse_annotation(facts.annotation, source.pattern or compile_annotation_pattern(None))
        return ImageVersion(parsed[0], parsed[1], "annotation") if parsed else None
    if source.kind in ("extra_config", "custom_attribute"):
        values = facts.extra_config if source.kind == "extra_config" else facts.custom_attributes
        version = (values.get(source.version_key) or "").strip()
        if not version:
            return None
        return ImageVersion((values.get(source.family_key) or "").strip(), version, source.kind)
    item_id = (facts.extra_config.get(source.item_key) or "").strip()
    if not item_id or library is None:
        return None
    found = library(item_id)
    if found is None or not found.version:
        return None
    return dataclasses.replace(found, source="content_library", library_item=item_id)
