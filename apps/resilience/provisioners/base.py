"""The provisioner interface: bring a pilot light up from a golden artifact in the recovery location, find what a
drill left behind, and destroy it. Provisioners see plain dataclasses and never touch the ORM; SDK errors become
``ProvisionError`` with one readable sentence."""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
from typing import Any, ClassVar

TAG_KEY = "qlrf:drill-run"  # value "<organization id>-<run id>" on every resource a drill creates


class ProvisionError(Exception):
    """A readable, secret-free failure talking to the platform."""


@dataclasses.dataclass(frozen=True)
class Machine:
    """One provisioned machine as the platform reports it now."""

    id: str
    state: str  # normalised: pending, running, stopped, terminated, missing
    image_ref: str = ""
    private_ip: str | None = None
    public_ip: str | None = None


@dataclasses.dataclass(frozen=True)
class RecoveryPoint:
    """The newest point data can be recovered to, and what it is (snapshot id, image version)."""

    at: dt.datetime
    ref: str


class BaseProvisioner(abc.ABC):
    """One recovery target of one platform, reached with an inventory connector's session and credentials."""

    slug: ClassVar[str] = ""

    def __init__(self, *, connector, target: dict[str, Any], poll_seconds: float = 5.0):
        self.connector = connector  # the inventory Connector row (credentials by reference, config)
        self.target = target  # the definition's ``target`` block
        self.poll_seconds = poll_seconds

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the drill recovers to, as artifacts record it (AWS region, vSphere datacenter)."""

    def artifact_matches(self, artifact) -> bool:
        """Whether a registry artifact (platform already matched) lives in the recovery location."""
        return artifact.region == self.location

    @abc.abstractmethod
    def artifact_present(self, image_ref: str) -> bool:
        """Whether the platform still holds the artifact in the recovery location."""

    @abc.abstractmethod
    def provision(self, *, image_ref: str, pilot: dict[str, Any], tag: str) -> list[str]:
        """Create the pilot light tagged ``TAG_KEY=tag``; return the new resource ids."""

    @abc.abstractmethod
    def wait_running(self, ids: list[str], *, timeout: float) -> list[Machine]:
        """Wait until every machine runs (or the timeout passes); return their current state."""

    @abc.abstractmethod
    def describe(self, ids: list[str]) -> list[Machine]:
        """The machines' current state (``missing`` for ids the platform no longer knows)."""

    @abc.abstractmethod
    def destroy(self, ids: list[str]) -> list[str]:
        """Destroy the resources; return the ids destroyed (idempotent: gone ones count as destroyed)."""

    @abc.abstractmethod
    def tagged(self) -> dict[str, list[str]]:
        """Every live resource carrying ``TAG_KEY`` in the recovery location, by tag value (for the janitor)."""

    def recovery_point(self, spec: dict[str, Any]) -> RecoveryPoint | None:
        """The newest recovery point for a ``snapshot_tag`` source; platforms without snapshots have none."""
        raise ProvisionError(f"{self.slug} drills cannot read snapshot recovery points")


_REGISTRY: dict[str, type[BaseProvisioner]] = {}


def register_provisioner(cls: type[BaseProvisioner]) -> type[BaseProvisioner]:
    """Class decorator: register a provisioner under its slug; a duplicate slug raises."""
    if not cls.slug:
        raise ValueError(f"{cls.__name__} has no slug")
    if cls.slug in _REGISTRY and _REGISTRY[cls.slug] is not cls:
        raise ValueError(f"a provisioner for {cls.slug!r} is already registered")
    _REGISTRY[cls.slug] = cls
    return cls


def registered_provisioners() -> dict[str, type[BaseProvisioner]]:
    from . import load_provisioners

    load_provisioners()
    return dict(_REGISTRY)


def get_provisioner_class(slug: str) -> type[BaseProvisioner]:
    try:
        return registered_provisioners()[slug]
    except KeyError:
        raise ProvisionError(f"no drill provisioner for platform {slug!r}") from None
