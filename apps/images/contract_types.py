"""Result types of golden image contract validation (shared by the contract_* modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ContractFault:
    """One problem in a contract: where (JSON pointer and YAML line), what, and a stable machine code."""

    pointer: str
    line: int | None
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


@dataclass(frozen=True, slots=True)
class ContractValidation:
    """Outcome of validating one contract document; valid only when there is no fault at all."""

    valid: bool
    kind: str | None
    document: dict[str, Any] | None
    digest: str
    faults: list[ContractFault] = field(default_factory=list)
    filename: str = "<input>"

    @property
    def codes(self) -> list[str]:
        """The fault codes in report order, handy for callers and tests."""
        return [fault.code for fault in self.faults]


def escape_pointer_token(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(parts: Any) -> str:
    """Build a JSON pointer from path parts (strings and list indexes)."""
    return "".join("/" + escape_pointer_token(str(part)) for part in parts)
