"""Nguyen & Hein, "The loss surface of deep and wide neural networks", ICML 2017
(arXiv:1704.08045).

Setting: a fully connected net with biases, analytic strictly increasing activation (sigmoid,
tanh, softplus; not ReLU), squared loss, layers F_l = sigma(F_{l-1} W_l + b_l), F_0 = X,
linear output F_{L-1} W_L + b_L. Their main result (Sec. 3), for the wide layer k = 1: if the
layer is wide enough, the widths after it are non-increasing (pyramidal), and at a critical
point rank(F_1) = N and W_l has full column rank for l >= 3, then the critical point is a
global minimum (zero loss when the targets are reachable); for almost every W_1, b_1,
rank F_1 = N. The paper counts the bias column and needs n_1 >= N - 1; this module uses
n_1 >= N, so that F_1 (N x n_1) itself can have rank N, as the check measures.
Caveat (Petzka & Sminchisescu, JMLR 2021): "almost all" is not "all".

Mechanism and its quantitative form (mean loss L = 1/(2N) ||e||^2, e = f - y): with
Delta_L = e and Delta_l = (Delta_{l+1} W_{l+1}^T) * sigma'(G_l) (G_l the pre-activations),
grad_{W_2} L = F_1^T Delta_2 / N. Hence ||Delta_2||_F <= N ||grad_{W_2} L||_F / sigma_N(F_1), and
each backward step loses at most a factor s_l sigma_min(W_{l+1}) (s_l = min sigma'(G_l)):

    ||e|| <= N ||grad_{W_2} L||_F / (sigma_N(F_1) prod_{l=2}^{L-1} s_l sigma_min(W_{l+1})).

``RESIDUAL_BOUND`` is this right-hand side with the product as one symbol ``chain``;
``WIDTH_CONDITION`` is n_1 >= N.

Example:
    >>> residual_bound(10, 1e-9, 0.5, 0.2)
    1e-07
"""

from __future__ import annotations

import sympy as sp

N, n1 = sp.symbols("N n_1", positive=True, integer=True)
grad_norm, sigma_features, chain = sp.symbols("g sigma_N(F_1) c", positive=True)

WIDTH_CONDITION = sp.Ge(n1, N)
RESIDUAL_BOUND = N * grad_norm / (sigma_features * chain)

_width_condition = sp.lambdify((N, n1), WIDTH_CONDITION, modules="math")
_residual_bound = sp.lambdify((N, grad_norm, sigma_features, chain), RESIDUAL_BOUND, "math")


def wide_enough(n_samples: int, first_width: int) -> bool:
    """n_1 >= N (so that F_1, N x n_1, can have rank N)."""
    return bool(_width_condition(n_samples, first_width))


def residual_bound(n_samples: int, grad_w2_norm: float, sigma_n: float, chain_value: float):
    """N ||grad_{W_2} L||_F / (sigma_N(F_1) * chain): bound on ||f - y|| (full ranks)."""
    return float(_residual_bound(n_samples, grad_w2_norm, sigma_n, chain_value))
