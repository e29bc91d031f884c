"""Zhang, Bengio, Hardt, Recht, Vinyals, "Understanding deep learning requires rethinking
generalization", ICLR 2017 (arXiv:1611.03530): Theorem 1 and the random-label experiments.

Theorem 1 (finite-sample expressivity): there is a two-layer ReLU network with 2n + d weights
that represents any function on any n distinct points in d dimensions. Construction (their
Sec. 4): c(x) = sum_j w_j relu(a.x - b_j) with a in R^d such that the projections z_i = a.x_i
are distinct (a generic a), sorted z_1 < ... < z_n, and biases interleaved
b_1 < z_1 < b_2 < z_2 < ... < b_n < z_n. Then A_ij = relu(z_i - b_j) vanishes for j > i:
A is lower triangular with diagonal z_i - b_i > 0, so its eigenvalues are the z_i - b_i, the
smallest is min_i (z_i - b_i) > 0, and A w = y has exactly one solution. Weights: a (d), b (n),
w (n): ``WEIGHT_COUNT`` = 2n + d.

Conditioning in floating point (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd
ed. 2002, Thm 8.5 and Sec. 3.1): forward substitution returns w_hat with (A + dA) w_hat = y,
|dA| <= gamma_n |A|, gamma_n = n u / (1 - n u) (``GAMMA``, u the unit roundoff); evaluating
A w_hat in floating point adds at most gamma_n |A| |w_hat|. Hence, elementwise,

    |fl(c(x_i)) - y_i| <= 2 gamma_n (|A| |w_hat|)_i                   (``FIT_ROUNDING_FACTOR``).

The weights solve for the slopes of the piecewise-linear interpolant, w_j ~ jumps of slope
~ max|y| / (gap between neighbouring z), and with z from a Gaussian projection the smallest gap
is ~ range / n^2, so |A||w| ~ n^3 max|y|: at n = 200 the worst-case floor 2 gamma_n |A||w| is
~1e-7 max|y| in float64 (the measured error is ~1e-10); past n ~ 1000 even the measured error
approaches 1e-6 max|y|. That is why the 1e-6 check is stated for n up to about 200.

Random labels: labels drawn independently of the inputs carry no information about held-out
points, so a classifier's held-out accuracy on labels independent of its predictions is a sum
of independent Bernoulli(p) draws, p = sum_c P(predict c) P(label c) (1/k for balanced
classes): :func:`chance_interval` gives the exact binomial interval.

Example:
    >>> weight_count(n=200, d=10)
    410
"""

from __future__ import annotations

import sympy as sp

n, d = sp.symbols("n d", positive=True, integer=True)
u = sp.Symbol("u", positive=True)  # unit roundoff: 2^-53 in float64, 2^-24 in float32

WEIGHT_COUNT = 2 * n + d
GAMMA = n * u / (1 - n * u)
FIT_ROUNDING_FACTOR = 2 * GAMMA

_weight_count = sp.lambdify((n, d), WEIGHT_COUNT, modules="math")
_fit_rounding_factor = sp.lambdify((n, u), FIT_ROUNDING_FACTOR, modules="math")


def weight_count(n: int, d: int) -> int:
    """2n + d, the number of weights of Theorem 1's network."""
    return int(_weight_count(n, d))


def fit_rounding_factor(n_points: int, unit_roundoff: float) -> float:
    """2 gamma_n = 2 n u / (1 - n u); multiply by (|A||w|)_i for the rounding floor.

    >>> round(fit_rounding_factor(1, 0.25), 12)  # 2 * 0.25 / 0.75
    0.666666666667
    """
    return float(_fit_rounding_factor(n_points, unit_roundoff))


def chance_interval(trials: int, p: float, delta: float) -> tuple[float, float]:
    """Accuracy interval [lo, hi] holding with probability >= 1 - delta for Binomial(trials, p)/
    trials: the delta/2 and 1 - delta/2 quantiles (exact binomial, scipy).

    >>> chance_interval(100, 0.0, 0.01)
    (0.0, 0.0)
    """
    from scipy.stats import binom

    lo = float(binom.ppf(delta / 2, trials, p))
    hi = float(binom.ppf(1 - delta / 2, trials, p))
    return lo / trials, hi / trials
