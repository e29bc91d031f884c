"""stats: paired t bounds against scipy's paired t-test (an independent implementation)."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from theorylab.sparse import stats


@pytest.mark.parametrize("n", [2, 3, 8, 30])
def test_paired_bounds_match_scipy_ttest_rel(n):
    rng = np.random.default_rng(n)
    a, b = rng.normal(1.0, 1.0, n), rng.normal(0.5, 1.0, n)
    r = stats.paired(a, b, confidence=0.9)
    two = sps.ttest_rel(a, b).confidence_interval(0.9)
    assert r.lower2 == pytest.approx(two.low, rel=1e-12)
    assert r.upper2 == pytest.approx(two.high, rel=1e-12)
    one = sps.ttest_rel(a, b, alternative="greater").confidence_interval(0.9)
    assert r.lower == pytest.approx(one.low, rel=1e-12)
    assert math.isinf(one.high)
    assert r.mean == pytest.approx(float(np.mean(a - b)), rel=1e-12)


def test_one_value_or_nan_gives_nan_bounds():
    assert math.isnan(stats.mean_bounds([1.0]).lower)
    assert math.isnan(stats.mean_bounds([1.0, math.nan, 2.0]).upper)
    with pytest.raises(ValueError, match="differ in size"):
        stats.paired([1, 2], [1, 2, 3])


def test_mean_se():
    mean, se = stats.mean_se([[1.0, 3.0], [2.0, 6.0]], axis=0)
    assert mean.tolist() == [1.5, 4.5]
    assert se.tolist() == pytest.approx([0.5, 1.5])
