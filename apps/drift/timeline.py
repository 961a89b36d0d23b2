"""What a channel's history says about one version at one moment: compliant, or outdated since when.

Pure functions over the (small) channel history and version table; the fleet itself is never looped over here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class VersionInfo:
    id: int
    family_id: int
    key: str  # version_key: the rank in its family under the family's scheme (ADR 011)
    label: str  # family@version
    revoked_at: datetime.datetime | None


@dataclass(frozen=True)
class Assignment:
    at: datetime.datetime
    from_id: int | None
    to_id: int
    grace_until: datetime.datetime


@dataclass(frozen=True)
class Verdict:
    compliant: bool
    outdated_since: datetime.datetime | None = None
    baseline: str = ""
    reason: str = ""  # "behind" | "revoked"


class ChannelTimeline:
    """The assignments of one channel (family × environment), oldest first."""

    def __init__(self, assignments: list[Assignment]):
        self.assignments = sorted(assignments, key=lambda a: a.at)

    def in_force(self, at: datetime.datetime) -> Assignment | None:
        current = None
        for assignment in self.assignments:
            if assignment.at > at:
                break
            current = assignment
        return current

    def _compliant(self, version: VersionInfo, at: datetime.datetime, versions: dict[int, VersionInfo]) -> bool:
        assignment = self.in_force(at)
        if assignment is None:
            return True  # no golden version defined yet: nothing to drift from
        if version.key >= versions[assignment.to_id].key:
            return True  # on the baseline, or a newer version (a canary)
        return version.id == assignment.from_id and at < assignment.grace_until

    def _behind_since(self, version: VersionInfo, at: datetime.datetime, versions) -> datetime.datetime | None:
        """The last moment (≤ at) the version went from compliant to outdated, or None if compliant at ``at``."""
        if self._compliant(version, at, versions):
            return None
        events = sorted({t for a in self.assignments for t in (a.at, a.grace_until) if t <= at})
        since, previous = None, True
        for moment in events:
            now_compliant = self._compliant(version, moment, versions)
            if previous and not now_compliant:
                since = moment
            previous = now_compliant
        return since

    def verdict(self, version: VersionInfo, at: datetime.datetime, versions: dict[int, VersionInfo]) -> Verdict:
        """Compliant, or outdated with its drift start: grace end / promotion, or revocation (whichever is first)."""
        assignment = self.in_force(at)
        baseline = versions[assignment.to_id].label if assignment else ""
        behind = self._behind_since(version, at, versions)
        revoked = version.revoked_at if version.revoked_at is not None and version.revoked_at <= at else None
        if revoked is None and behind is None:
            return Verdict(True, baseline=baseline)
        if revoked is not None and (behind is None or revoked <= behind):
            return Verdict(False, revoked, baseline, "revoked")
        return Verdict(False, behind, baseline, "behind")


def no_channel_verdict(version: VersionInfo, at: datetime.datetime) -> Verdict:
    """A family with no channel in the environment: only a revocation makes its machines outdated."""
    if version.revoked_at is not None and version.revoked_at <= at:
        return Verdict(False, version.revoked_at, "", "revoked")
    return Verdict(True)
