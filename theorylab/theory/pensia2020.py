"""Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, "Optimal Lottery Tickets via SubsetSum:
Logarithmic Over-Parameterization is Sufficient", NeurIPS 2020 (arXiv:2006.07990).

Setting: a target layer z -> relu(W z) is realised by two random layers. Intermediate neuron t
of input coordinate k has first-layer weight u_{k,t} (the only weight kept in its row) and
second-layer weight v_{j,(k,t)} towards output j. For one target weight w = W_{jk} the kept
neurons form the *scalar gadget*

    g_S(x) = sum_{t in S} v_t relu(u_t x),  S = S+ u S-,  S+ within {u_t > 0},  S- within {u_t < 0}.

Closed forms (sympy expressions defined once; numbers come from lambdify):

- ``relu``: max(x, 0); ``RELU_IDENTITY_RHS`` = relu(x) - relu(-x), equal to x for every real x
  (the identity Malach et al. 2020 build their two-hop paths on).
- ``GADGET_POSITIVE_BRANCH`` / ``GADGET_NEGATIVE_BRANCH``: for x > 0 only S+ is active and
  g_S(x) = x * A+ with A+ = sum_{S+} u_t v_t; for x < 0, g_S(x) = x * A-. Hence (case split on
  the sign of x) ``GADGET_SUP_ERROR``: sup_{|x| <= r} |g_S(x) - w x| = r * max(|A+ - w|, |A- - w|).
- ``PROPAGATION_STEP``: one gadget layer pair with per-weight error at most e, true input z and
  approximate input z_hat with |z_hat_k - z_k| <= delta_k (coordinatewise) gives, per output j,

      |y_hat_j - y_j| <= e (||z||_1 + ||delta||_1) + (|W| delta)_j,

  and relu (1-Lipschitz) keeps the bound. With delta = 0 this is e ||z||_1.
- ``TWO_LAYER_BOUND``: the step applied twice to f(x) = c . relu(W x) (hidden width d1, the same
  e in both layer pairs): e (||c||_1 ||x||_1 + ||relu(W x)||_1) + e^2 d1 ||x||_1 (exact, not
  only first order); ``TWO_LAYER_FIRST_ORDER`` drops the e^2 term.
- ``TWO_LAYER_UNIFORM_BOUND``: its supremum over the unit ball, using ||x||_1 <= sqrt(d) and
  ||relu(W x)||_1 <= sqrt(d1) ||W x||_2 <= sqrt(d1) for an operator norm ||W|| <= 1.
- ``TWO_LAYER_TOLERANCE``: the per-weight tolerance e solving TWO_LAYER_UNIFORM_BOUND = eps,
  so that every gadget within e gives a network within eps everywhere on the unit ball.

Lueker (1998) / Pensia et al. Cor 2.5: with n >= C log(2 / min(eps, delta)) i.i.d. candidates
every target in [-1, 1] is within eps of some subset sum w.p. 1 - delta; C is not explicit, so
candidate counts are compared through fitted slopes, never against C = 1. What is explicit is
the counting floor the logarithm comes from:

- ``POOL_COVER``: a pool of m candidates has at most 2^m subset sums (the empty one included),
  and the targets within e of one of them cover a set of measure at most 2^m 2e; for
  w ~ U[-W, W] a pool therefore succeeds with probability at most 2^m e / W.
- Both sign pools must succeed, and among N candidates the pool sizes are (M, N - M),
  M ~ Binomial(N, 1/2), so P(the first N candidates succeed) <= E[min(1, POOL_COVER(min(M,
  N - M)))] (:func:`subset_sum_success_upper`), and the number of candidates needed for a
  success rate q is at least the smallest N where this reaches q
  (:func:`subset_sum_candidates_floor`): about 2 log2(q W / e), growing by ~2 per halving of e.

Example (the gadget error at r = 1 is the worse of the two branch errors):
    >>> round(float(gadget_sup_error(0.31, 0.29, 0.3)), 12)
    0.01
    >>> round(two_layer_tolerance(eps=0.1, c_l1=1.0, d=1, d1=1), 12)  # e (1 + 1) + e^2 = 0.1
    0.04880884817
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
import torch

x, w, r = sp.symbols("x w r", real=True)
a_plus, a_minus = sp.symbols("A_plus A_minus", real=True)
e, eps = sp.symbols("e epsilon", positive=True)
z_l1, delta_l1, w_delta = sp.symbols("z_l1 delta_l1 W_delta", nonnegative=True)
c_l1, x_l1, h_l1 = sp.symbols("c_l1 x_l1 h_l1", nonnegative=True)
d, d1 = sp.symbols("d d1", positive=True, integer=True)


def relu(value):
    """relu(v) = max(v, 0) as a sympy expression."""
    return sp.Max(value, 0)


RELU_IDENTITY_RHS = relu(x) - relu(-x)

# Branches of g_S(x) - w x: x > 0 activates exactly the u > 0 neurons, x < 0 the u < 0 ones.
GADGET_POSITIVE_BRANCH = x * a_plus - w * x
GADGET_NEGATIVE_BRANCH = x * a_minus - w * x
GADGET_SUP_ERROR = r * sp.Max(sp.Abs(a_plus - w), sp.Abs(a_minus - w))

PROPAGATION_STEP = e * (z_l1 + delta_l1) + w_delta

# Layer pair 1: delta_1 = e ||x||_1 in each of the d1 coordinates (input is exact).
_DELTA_1 = PROPAGATION_STEP.subs({z_l1: x_l1, delta_l1: 0, w_delta: 0})
# Layer pair 2 (readout c): ||delta_1||_1 = d1 delta_1 and |c| . delta_1 = ||c||_1 delta_1.
TWO_LAYER_BOUND = sp.expand(PROPAGATION_STEP.subs({z_l1: h_l1, delta_l1: d1 * _DELTA_1,
                                                  w_delta: c_l1 * _DELTA_1}))  # fmt: skip
TWO_LAYER_FIRST_ORDER = sp.diff(TWO_LAYER_BOUND, e).subs(e, 0) * e
TWO_LAYER_UNIFORM_BOUND = TWO_LAYER_BOUND.subs({x_l1: sp.sqrt(d), h_l1: sp.sqrt(d1)})
_UNIT = {eps: 1, c_l1: 1, d: 1, d1: 1}
TWO_LAYER_TOLERANCE = next(  # the positive root of a quadratic in e
    root for root in sp.solve(sp.Eq(TWO_LAYER_UNIFORM_BOUND, eps), e) if root.subs(_UNIT) > 0
)

pool_size = sp.Symbol("m", nonnegative=True, integer=True)
weight_max = sp.Symbol("W", positive=True)
POOL_COVER = 2**pool_size * e / weight_max

_gadget_sup_error = sp.lambdify((a_plus, a_minus, w, r), GADGET_SUP_ERROR, modules="numpy")
_propagation_step = sp.lambdify((e, z_l1, delta_l1, w_delta), PROPAGATION_STEP, modules="numpy")
_two_layer_bound = sp.lambdify((e, c_l1, x_l1, h_l1, d1), TWO_LAYER_BOUND, modules="numpy")
_two_layer_tolerance = sp.lambdify((eps, c_l1, d, d1), TWO_LAYER_TOLERANCE, modules="math")
_pool_cover = sp.lambdify((pool_size, e, weight_max), POOL_COVER, modules="numpy")


def gadget_sup_error(sum_plus, sum_minus, weight, radius=1.0):
    """sup_{|x| <= radius} |g_S(x) - w x| = radius * max(|A+ - w|, |A- - w|) (elementwise;
    numpy arrays or torch tensors, returned as the same kind)."""
    if isinstance(sum_plus, torch.Tensor):
        args = [torch.as_tensor(a).detach().cpu().numpy() for a in (sum_plus, sum_minus, weight)]
        out = _gadget_sup_error(*args, radius)
        return torch.as_tensor(out, dtype=sum_plus.dtype, device=sum_plus.device)
    return _gadget_sup_error(sum_plus, sum_minus, weight, radius)


def propagation_step(err, z_norm_l1, delta_norm_l1, abs_w_delta):
    """e (||z||_1 + ||delta||_1) + (|W| delta)_j: the error bound after one gadget layer pair."""
    return _propagation_step(err, z_norm_l1, delta_norm_l1, abs_w_delta)


def two_layer_bound(err, c_norm_l1, x_norm_l1, h_norm_l1, hidden):
    """e (||c||_1 ||x||_1 + ||relu(Wx)||_1) + e^2 d1 ||x||_1 for f(x) = c . relu(W x)."""
    return _two_layer_bound(err, c_norm_l1, x_norm_l1, h_norm_l1, hidden)


def two_layer_tolerance(eps: float, c_l1: float, d: int, d1: int) -> float:
    """Per-weight tolerance e with TWO_LAYER_UNIFORM_BOUND(e) = eps (positive root)."""
    return float(_two_layer_tolerance(eps, c_l1, d, d1))


def subset_sum_success_upper(candidates: int, tolerance: float, weight_max_value: float) -> float:
    """Upper bound on P(the first N candidates hold subsets within e of w in both sign pools),
    w ~ U[-W, W]: sum_k C(N, k) 2^-N min(1, POOL_COVER(min(k, N - k))).

    Example (one candidate: one pool is empty, so only |w| <= e succeeds: probability e / W):
        >>> subset_sum_success_upper(1, 0.05, 0.5)
        0.1
    """
    k = np.arange(candidates + 1)
    log_weights = (
        np.array([math.lgamma(candidates + 1) - math.lgamma(j + 1) - math.lgamma(candidates - j + 1)
                  for j in k]) - candidates * math.log(2.0)
    )  # fmt: skip
    cover = np.minimum(1.0, _pool_cover(np.minimum(k, candidates - k).astype(float), tolerance,
                                        weight_max_value))  # fmt: skip
    return float(np.round(np.exp(log_weights) @ cover, 15))


def subset_sum_candidates_floor(tolerance: float, weight_max_value: float, rate: float) -> int:
    """Smallest N with :func:`subset_sum_success_upper` >= ``rate``: no subset-sum selector can
    reach success rate ``rate`` with fewer candidates (the counting floor).

    Example:
        >>> [subset_sum_candidates_floor(e, 0.5, 0.9) for e in (0.1, 0.05)]
        [8, 11]
    """
    n = 0
    while subset_sum_success_upper(n, tolerance, weight_max_value) < rate:
        n += 1
    return n
