"""Confidence of a cause: documented, testable terms (docs/insights.md, "Confidence").

    confidence = (0.5 + 0.5·share) × (1 − stale_share / 2) × (0.25 + 0.75·freshness) × (1 − unmanaged_share / 2)

share: the cause's machines / the scope's drifted machines (outdated + unmanaged + stale);
stale_share: stale machines / all machines of the scope;
freshness: 1 when the oldest "last succeeded scan" behind the cause's machines is at most FRESH_HOURS old,
FRESH_HOURS / age beyond that, 0 when no scan of theirs ever succeeded;
unmanaged_share: unmanaged machines / all machines of the scope (what resolution could not place).
Every term is in [0, 1]; more share raises confidence, staler or less resolved data never does.
"""

from __future__ import annotations

FRESH_HOURS = 24.0


def freshness(age_hours: float | None) -> float:
    if age_hours is None:
        return 0.0
    return 1.0 if age_hours <= FRESH_HOURS else FRESH_HOURS / age_hours


def confidence(*, share: float, stale_share: float, age_hours: float | None, unmanaged_share: float) -> float:
    for name, value in (("share", share), ("stale_share", stale_share), ("unmanaged_share", unmanaged_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], not {value}")
    value = (
        (0.5 + 0.5 * share)
        * (1.0 - stale_share / 2.0)
        * (0.25 + 0.75 * freshness(age_hours))
        * (1.0 - unmanaged_share / 2.0)
    )
    return round(value, 3)


def level(value: float) -> str:
    return "high" if value >= 0.7 else "medium" if value >= 0.4 else "low"
