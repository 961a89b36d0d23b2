"""The health-check interface: one probe of one machine returns green or red with a short reason.

The runner owns attempts, retries, intervals and storing each result; a check only probes once, bounded by the
spec's ``timeout_seconds``. Checks see plain dataclasses (the machine, the spec, the golden version's id and a
resolver from image reference to version id), never the ORM.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from ..provisioners.base import BaseProvisioner, Machine


@dataclasses.dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    detail: str


@dataclasses.dataclass
class CheckContext:
    """What one probe may look at."""

    machine: Machine
    spec: dict[str, Any]
    platform: str
    golden_version_id: int | None
    version_of: Callable[[str], int | None]  # image ref → registry version id (the drift resolution)
    provisioner: BaseProvisioner

    @property
    def timeout(self) -> float:
        return float(self.spec.get("timeout_seconds", 10))

    def host(self) -> str | None:
        """The address to probe: the machine's private or public IP, or the literal host of the spec."""
        host = self.spec.get("host", "private_ip")
        if host == "private_ip":
            return self.machine.private_ip
        if host == "public_ip":
            return self.machine.public_ip
        return host


class BaseCheck(abc.ABC):
    type: ClassVar[str] = ""

    @abc.abstractmethod
    def probe(self, context: CheckContext) -> CheckOutcome:
        """Probe once; raise nothing on a red answer (return passed=False with the reason)."""


_REGISTRY: dict[str, BaseCheck] = {}


def register_check(cls: type[BaseCheck]) -> type[BaseCheck]:
    """Class decorator: register a check under its type; a duplicate type raises."""
    if cls.type in _REGISTRY and type(_REGISTRY[cls.type]) is not cls:
        raise ValueError(f"a health check of type {cls.type!r} is already registered")
    _REGISTRY[cls.type] = cls()
    return cls


def registered_checks() -> dict[str, BaseCheck]:
    from . import load_checks

    load_checks()
    return dict(_REGISTRY)


def get_check(check_type: str) -> BaseCheck:
    checks = registered_checks()
    if check_type not in checks:
        raise KeyError(f"unknown health check type {check_type!r}")
    return checks[check_type]
