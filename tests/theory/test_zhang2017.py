"""zhang2017: the weight count of Thm 1's network, Higham's rounding factor against floating-point
forward substitution, and the chance interval's coverage."""

import numpy as np
import pytest
from scipy.stats import binom

from theorylab.theory import zhang2017


def test_weight_count_counts_the_parameters_of_the_network():
    """c(x) = sum_j w_j relu(a.x - b_j): a has d entries, b and w one per point."""
    for n, d in ((1, 1), (3, 2), (200, 10)):
        a, b, w = np.zeros(d), np.zeros(n), np.zeros(n)
        assert zhang2017.weight_count(n, d) == a.size + b.size + w.size


def _two_point_systems(dtype, count, seed):
    """Lower-triangular 2 x 2 systems A w = y solved by forward substitution and evaluated in
    ``dtype``; returns |fl(A w) - y| and |A||w| per point (exact in float64)."""
    rng = np.random.default_rng(seed)
    a11, a21, a22 = (rng.uniform(0.5, 2.0, count).astype(dtype) for _ in range(3))
    y1, y2 = (rng.normal(size=count).astype(dtype) for _ in range(2))
    w1 = y1 / a11
    w2 = (y2 - a21 * w1) / a22
    out1, out2 = a11 * w1, a21 * w1 + a22 * w2
    error = np.stack([np.abs(out1.astype(float) - y1), np.abs(out2.astype(float) - y2)])
    magnitude = np.stack(
        [np.abs(a11.astype(float) * w1), np.abs(a21.astype(float) * w1) + np.abs(a22 * w2)]
    )
    return error, magnitude


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rounding_factor_bounds_forward_substitution_and_is_needed_in_full(dtype):
    """On 2 x 2 systems the errors stay below 2 gamma_2 |A||w| (Higham Thm 8.5 plus the
    evaluation) and some exceed gamma_2 |A||w|: the factor 2 is not slack (gamma_n alone, one of
    the two analyses, would be violated)."""
    u = np.finfo(dtype).eps / 2
    error, magnitude = _two_point_systems(dtype, 200_000, seed=0)
    ratio = error / (zhang2017.fit_rounding_factor(2, u) * magnitude)
    print(f"{np.dtype(dtype).name}: largest ratio {ratio.max():.3f}")
    assert ratio.max() <= 1.0
    assert ratio.max() > 0.5


def test_rounding_factor_grows_linearly_in_n_while_n_u_is_small():
    u = 2.0**-53
    small = zhang2017.fit_rounding_factor(1, u)
    assert small == pytest.approx(2 * u, rel=1e-15, abs=0)
    ratio = zhang2017.fit_rounding_factor(1000, u) / small
    assert ratio == pytest.approx(1000, rel=1e-12)


@pytest.mark.parametrize("trials, p, delta", [(797, 0.1, 1e-3), (200, 0.25, 0.05), (50, 0.5, 0.01)])
def test_chance_interval_covers_at_least_one_minus_delta_and_is_tight(trials, p, delta):
    lo, hi = zhang2017.chance_interval(trials, p, delta)
    k_lo, k_hi = round(lo * trials), round(hi * trials)
    coverage = binom.cdf(k_hi, trials, p) - binom.cdf(k_lo - 1, trials, p)
    assert coverage >= 1 - delta
    # One count less on either side would leave more than delta/2 in that tail.
    assert binom.cdf(k_hi - 1, trials, p) < 1 - delta / 2
    assert binom.cdf(k_lo, trials, p) >= delta / 2
