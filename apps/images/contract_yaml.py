"""Safe YAML loading for contracts: no aliases, no custom tags, bounded depth, line numbers kept per JSON pointer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from apps.images.contract_types import ContractFault, escape_pointer_token

MAX_DEPTH = 64
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
_MAPPING_TAGS = frozenset({"tag:yaml.org,2002:map"})
_SEQUENCE_TAGS = frozenset({"tag:yaml.org,2002:seq"})


class YamlRefused(Exception):
    """Raised when the input uses a construct contracts refuse (aliases, deep nesting, custom tags)."""

    def __init__(self, code: str, message: str, line: int, pointer: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.pointer = pointer


class ContractLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, refuses aliases (no YAML bombs) and caps nesting depth."""

    # Dates stay strings so the JSON Schema "date" format checks them and the digest is plain JSON.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """Compose one node, refusing aliases outright and nesting deeper than MAX_DEPTH."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlRefused(
                "yaml_alias",
                f"YAML aliases are not allowed in contracts (*{event.anchor})",
                event.start_mark.line + 1,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlRefused("too_deep", f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass
class ParsedYaml:
    """A loaded document with the YAML line of every JSON pointer, plus faults found while building it."""

    document: Any = None
    lines: dict[str, int] = field(default_factory=dict)
    faults: list[ContractFault] = field(default_factory=list)
    fatal: bool = False


def parse_contract_yaml(text: str) -> ParsedYaml:
    """Compose and build a contract document; syntax errors and refused constructs are fatal faults."""
    parsed = ParsedYaml()
    try:
        _compose_and_build(text, parsed)
    except YamlRefused as exc:
        _fatal(parsed, exc.pointer, exc.line, exc.message, exc.code)
    except yaml.MarkedYAMLError as exc:
        _fatal(parsed, "", _marked_line(exc), _marked_message(exc), "invalid_yaml")
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        message = f"invalid YAML: unacceptable character #x{exc.character:04x}"
        _fatal(parsed, "", line, message, "invalid_yaml")
    return parsed


def _compose_and_build(text: str, parsed: ParsedYaml) -> None:
    loader = ContractLoader(text)  # the reader rejects control characters already here
    try:
        node = loader.get_single_node()
        if node is None:
            _fatal(parsed, "", 1, "the document is empty", "empty_document")
            return
        parsed.document = _Builder(loader, parsed).build(node, "")
    finally:
        loader.dispose()


def _fatal(parsed: ParsedYaml, pointer: str, line: int | None, message: str, code: str) -> None:
    parsed.document = None
    parsed.fatal = True
    parsed.faults.append(ContractFault(pointer=pointer, line=line, message=message, code=code))


def _marked_line(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else None


def _marked_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (exc.context, exc.problem) if part]
    return "invalid YAML: " + ", ".join(parts) if parts else "invalid YAML"


class _Builder:
    """Turns a composed node tree into plain dicts/lists/scalars, recording lines and non-fatal faults."""

    def __init__(self, loader: ContractLoader, parsed: ParsedYaml) -> None:
        self.loader = loader
        self.parsed = parsed

    def build(self, node: Node, pointer: str) -> Any:
        """Build the value of node found at pointer."""
        self.parsed.lines.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, pointer)
        if isinstance(node, SequenceNode):
            return self._sequence(node, pointer)
        return self._scalar(node, pointer)

    def _fault(self, pointer: str, node: Node, message: str, code: str) -> None:
        fault = ContractFault(pointer=pointer, line=node.start_mark.line + 1, message=message, code=code)
        self.parsed.faults.append(fault)

    @staticmethod
    def _check_tag(node: Node, pointer: str, allowed: frozenset[str]) -> None:
        """Custom tags (!!python/..., !!binary, !!timestamp, !!set) are refused before anything is constructed."""
        if node.tag not in allowed:
            raise YamlRefused("invalid_yaml", f"unsupported YAML tag {node.tag}", node.start_mark.line + 1, pointer)

    def _mapping(self, node: MappingNode, pointer: str) -> dict[str, Any]:
        self._check_tag(node, pointer, _MAPPING_TAGS)
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._fault(pointer, key_node, "mapping keys must be plain scalars", "invalid_yaml")
                continue
            key = str(key_node.value)
            child = f"{pointer}/{escape_pointer_token(key)}"
            line = key_node.start_mark.line + 1
            if key in first_line:
                message = f"duplicate key {key!r} (first defined on line {first_line[key]})"
                self._fault(child, key_node, message, "duplicate_key")
                self._forget(child)
            else:
                first_line[key] = line
            self.parsed.lines[child] = line
            result[key] = self.build(value_node, child)
        return result

    def _forget(self, pointer: str) -> None:
        """Drop the lines recorded under a key that a duplicate is about to replace."""
        prefix = pointer + "/"
        for known in [p for p in self.parsed.lines if p == pointer or p.startswith(prefix)]:
            del self.parsed.lines[known]

    def _sequence(self, node: SequenceNode, pointer: str) -> list[Any]:
        self._check_tag(node, pointer, _SEQUENCE_TAGS)
        return [self.build(item, f"{pointer}/{index}") for index, item in enumerate(node.value)]

    def _scalar(self, node: ScalarNode, pointer: str) -> Any:
        self._check_tag(node, pointer, _SCALAR_TAGS)
        value = self.loader.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            self._fault(pointer, node, f"{node.value} is not a finite number", "invalid_yaml")
            return None
        return value
