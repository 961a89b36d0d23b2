"""Shared fixtures for the golden image contract tests (pure Python: no Django, no database)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:  # importlib import mode does not put the rootdir on sys.path
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture
def today() -> date:
    """A fixed "today" so expiry checks never depend on the wall clock; every example exception expires later."""
    return date(2026, 11, 26)


@pytest.fixture
def example_text() -> Callable[[str], str]:
    """Reads one filled example contract from contracts/examples/."""

    def read(name: str) -> str:
        return (REPO_ROOT / "contracts" / "examples" / name).read_text(encoding="utf-8")

    return read


@pytest.fixture
def line_of() -> Callable[..., int]:
    """1-based line of the n-th line containing a needle; fails loudly when there are not that many."""

    def find(text: str, needle: str, occurrence: int = 1) -> int:
        hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
        assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} time(s), wanted occurrence {occurrence}"
        return hits[occurrence - 1]

    return find
