"""Version ordering is real ordering, never string order."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.images.versioning import VersionFormatError, version_sort_key


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.9.2", "1.10.0"),
        ("1.2.0-rc.1", "1.2.0"),
        ("1.2.0", "1.2.1"),
        ("2024.6.1", "2024.06.2"),
        ("2024.12.1", "2025.01.1"),
        ("20240601", "20240602"),
        ("1.0", "1.0.1"),
        ("v2.0.0", "v10.0.0"),
    ],
)
def test_order(lower, higher):
    assert version_sort_key(lower) < version_sort_key(higher)


@given(
    st.lists(st.integers(min_value=0, max_value=99999), min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=99999), min_size=1, max_size=4),
)
def test_key_order_matches_numeric_order(a, b):
    pad = lambda v: v + [0] * (5 - len(v))  # noqa: E731
    key_a, key_b = version_sort_key(".".join(map(str, a))), version_sort_key(".".join(map(str, b)))
    assert (key_a < key_b) == (pad(a) < pad(b))


@pytest.mark.parametrize("bad", ["", "latest", "1..2", "abc", "1.2.3; drop table", "x" * 70])
def test_rejects_non_versions(bad):
    with pytest.raises(VersionFormatError):
        version_sort_key(bad)
