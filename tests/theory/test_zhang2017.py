"""zhang2017: weight count, rounding factor, and the chance interval's coverage."""

import pytest
from scipy.stats import binom

from theorylab.theory import zhang2017


def test_weight_count_and_rounding_factor():
    assert zhang2017.weight_count(3, 2) == 8
    u = 2.0**-53
    assert zhang2017.fit_rounding_factor(100, u) == pytest.approx(2 * 100 * u / (1 - 100 * u))


@pytest.mark.parametrize("trials, p, delta", [(797, 0.1, 1e-3), (200, 0.25, 0.05), (50, 0.5, 0.01)])
def test_chance_interval_covers_at_least_one_minus_delta_and_is_tight(trials, p, delta):
    lo, hi = zhang2017.chance_interval(trials, p, delta)
    k_lo, k_hi = round(lo * trials), round(hi * trials)
    coverage = binom.cdf(k_hi, trials, p) - binom.cdf(k_lo - 1, trials, p)
    assert coverage >= 1 - delta
    # One count less on either side would leave more than delta/2 in that tail.
    assert binom.cdf(k_hi - 1, trials, p) < 1 - delta / 2
    assert binom.cdf(k_lo, trials, p) >= delta / 2
