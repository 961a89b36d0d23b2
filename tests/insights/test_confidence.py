"""The confidence formula's documented properties hold over a grid of inputs."""

import itertools

import pytest

from apps.insights.confidence import FRESH_HOURS, confidence, freshness, level

SHARES = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
AGES = [0.0, 1.0, FRESH_HOURS, 30.0, 48.0, 200.0, 10_000.0, None]


def grid():
    return itertools.product(SHARES, SHARES, AGES, SHARES)


def _age_order(age):
    return float("inf") if age is None else age


def test_within_zero_and_one():
    for share, stale, age, unmanaged in grid():
        assert 0.0 <= confidence(share=share, stale_share=stale, age_hours=age, unmanaged_share=unmanaged) <= 1.0


def test_staler_data_never_raises_confidence():
    for share, stale, unmanaged in itertools.product(SHARES, SHARES, SHARES):
        values = [
            confidence(share=share, stale_share=stale, age_hours=age, unmanaged_share=unmanaged)
            for age in sorted(AGES, key=_age_order)
        ]
        assert values == sorted(values, reverse=True)
    for share, age, unmanaged in itertools.product(SHARES, AGES, SHARES):
        values = [confidence(share=share, stale_share=s, age_hours=age, unmanaged_share=unmanaged) for s in SHARES]
        assert values == sorted(values, reverse=True)


def test_more_unmanaged_never_raises_and_more_share_never_lowers():
    for share, stale, age in itertools.product(SHARES, SHARES, AGES):
        values = [confidence(share=share, stale_share=stale, age_hours=age, unmanaged_share=u) for u in SHARES]
        assert values == sorted(values, reverse=True)
    for stale, age, unmanaged in itertools.product(SHARES, AGES, SHARES):
        values = [confidence(share=s, stale_share=stale, age_hours=age, unmanaged_share=unmanaged) for s in SHARES]
        assert values == sorted(values)


def test_strictly_lower_when_the_last_good_scan_is_older_than_a_day():
    fresh = confidence(share=0.5, stale_share=0.0, age_hours=1.0, unmanaged_share=0.0)
    old = confidence(share=0.5, stale_share=0.0, age_hours=96.0, unmanaged_share=0.0)
    never = confidence(share=0.5, stale_share=0.0, age_hours=None, unmanaged_share=0.0)
    assert fresh > old > never > 0
    assert (freshness(None), freshness(FRESH_HOURS), freshness(2 * FRESH_HOURS)) == (0.0, 1.0, 0.5)


def test_perfect_evidence_is_full_confidence():
    assert confidence(share=1.0, stale_share=0.0, age_hours=0.0, unmanaged_share=0.0) == 1.0
    assert level(1.0) == "high" and level(0.5) == "medium" and level(0.1) == "low"


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_out_of_range_terms_are_refused(bad):
    with pytest.raises(ValueError):
        confidence(share=bad, stale_share=0.0, age_hours=1.0, unmanaged_share=0.0)
    with pytest.raises(ValueError):
        confidence(share=0.5, stale_share=bad, age_hours=1.0, unmanaged_share=0.0)
