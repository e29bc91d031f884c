"""Malach, Yehudai, Shalev-Shwartz, Shamir, "Proving the Lottery Ticket Hypothesis: Pruning is
All You Need", ICML 2020 (arXiv:2002.00585): the single-product construction and its cost.

Setting: a target weight w is realised by ONE two-hop path per sign of the input: an
intermediate neuron with u > 0 whose product u v is within e of w (active for x > 0) and one
with u < 0 (active for x < 0), using x = relu(x) - relu(-x). Weights are i.i.d. U[-1, 1]; if
|w| <= e both paths may be pruned away (the empty choice already has error |w| <= e).

Closed forms (sympy, defined once, lambdified for numbers):

- ``PRODUCT_DENSITY``: for u ~ U[0, 1], v ~ U[-1, 1] the product s = u v has density
  rho(s) = (1/2) log(1/|s|) on [-1, 1] (the u < 0 pool gives the same law by symmetry).
- ``PRODUCT_CDF_ODD``: G(s) = (s - s log|s|) / 2, the odd antiderivative of rho with G(0) = 0,
  so P(a <= u v <= b) = G(b) - G(a) for -1 <= a <= b <= 1.
- ``MATCH_PROBABILITY`` p(w, e) = G(min(w + e, 1)) - G(max(w - e, -1)): a candidate of the
  right sign matches w within e. For |w| bounded away from 0 and 1, p ~ 2 e rho(w): linear in e.
- ``SINGLE_PRODUCT_SUCCESS``: with N candidates (each of sign + or - with probability 1/2),
  P(both sign pools contain a match) = 1 - 2 (1 - p/2)^N + (1 - p)^N (inclusion-exclusion).

Hence the candidates needed for a fixed success rate grow like 1/e (a power law with exponent
1 as e -> 0), against log(1/e) for subset sums (:mod:`theorylab.theory.pensia2020`).

Example (the density integrates to 1 over [-1, 1]):
    >>> float(PRODUCT_CDF_ODD.subs(s, 1) - PRODUCT_CDF_ODD.subs(s, -1))
    1.0
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

s = sp.Symbol("s", real=True, nonzero=True)
p, n_candidates = sp.symbols("p N", positive=True)

PRODUCT_DENSITY = sp.log(1 / sp.Abs(s)) / 2
PRODUCT_CDF_ODD = (s - s * sp.log(sp.Abs(s))) / 2
SINGLE_PRODUCT_SUCCESS = 1 - 2 * (1 - p / 2) ** n_candidates + (1 - p) ** n_candidates

_cdf = sp.lambdify(s, PRODUCT_CDF_ODD, modules="numpy")
_success = sp.lambdify((p, n_candidates), SINGLE_PRODUCT_SUCCESS, modules="numpy")
_QUADRATURE_NODES = 400


@functools.lru_cache(maxsize=1)
def _legendre():
    return np.polynomial.legendre.leggauss(_QUADRATURE_NODES)


def product_cdf_odd(values):
    """G(s) = (s - s log|s|)/2 elementwise, with G(0) = 0 (its limit)."""
    values = np.asarray(values, dtype=np.float64)
    safe = np.where(values == 0, 1.0, values)
    return np.where(values == 0, 0.0, _cdf(safe))


def match_probability(weight, tolerance):
    """p(w, e) = P(|u v - w| <= e), u ~ U[0,1], v ~ U[-1,1] (elementwise in w)."""
    weight = np.asarray(weight, dtype=np.float64)
    upper = np.minimum(weight + tolerance, 1.0)
    lower = np.maximum(weight - tolerance, -1.0)
    return product_cdf_odd(upper) - product_cdf_odd(lower)


def single_product_success(match_prob, candidates):
    """P(both sign pools of ``candidates`` i.i.d. candidates hold a product within e of w)."""
    return _success(np.asarray(match_prob, dtype=np.float64), candidates)


def success_rate(candidates: int, tolerance: float, weight_max: float) -> float:
    """Success probability of single-product matching for w ~ U[-weight_max, weight_max].

    Weights with |w| <= e always succeed (empty choice); the rest are averaged by Gauss-Legendre
    quadrature over [e, weight_max] (the law is symmetric in w).
    """
    if tolerance >= weight_max:
        return 1.0
    nodes, weights = _legendre()
    half = (weight_max - tolerance) / 2
    ws = tolerance + half * (nodes + 1)
    rates = single_product_success(match_probability(ws, tolerance), candidates)
    hard = float(weights @ rates) / 2  # mean over [e, weight_max]
    free = tolerance / weight_max
    return free + (1 - free) * hard


def candidates_needed(tolerance: float, weight_max: float, rate: float, limit: int = 10**7) -> int:
    """Smallest N with success_rate(N) >= rate (bisection; success_rate is increasing in N)."""
    lo, hi = 0, 1
    while success_rate(hi, tolerance, weight_max) < rate:
        lo, hi = hi, hi * 2
        if hi > limit:
            return math.inf
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if success_rate(mid, tolerance, weight_max) >= rate:
            hi = mid
        else:
            lo = mid
    return hi


def quantile_relative_stderr(
    candidates: int, tolerance: float, weight_max: float, rate: float, trials: int
) -> float:
    """Relative standard error of the measured rate-quantile of the candidates needed, from
    ``trials`` i.i.d. trials, by the delta method for sample quantiles: with F(N) =
    :func:`success_rate` and its step F(n) - F(n - 1) at n = the quantile,

        se(n_q) / n_q = sqrt(q (1 - q) / T) / (n_q (F(n_q) - F(n_q - 1))).

    Example (about 4% at the claim's default ladder, 1000 trials):
        >>> n = candidates_needed(0.05, 0.5, 0.9)
        >>> round(quantile_relative_stderr(n, 0.05, 0.5, 0.9, 1000), 2)
        0.04
    """
    step = success_rate(candidates, tolerance, weight_max)
    step -= success_rate(candidates - 1, tolerance, weight_max)
    return math.sqrt(rate * (1 - rate) / trials) / (candidates * step)
