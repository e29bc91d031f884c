"""Soudry & Carmon, "No bad local minima: Data independent training error guarantees for
multilayer neural networks", arXiv:1605.08361 (2016).

Setting: N samples x_n in R^{d0}, one hidden layer of d1 leaky-ReLU units with a fixed
multiplicative "dropout-like" noise realisation eps_nr drawn from a continuous distribution,
single output, quadratic loss:

    f(x_n) = sum_r z_r eps_nr sigma(w_r . x_n),   sigma(t) = max(t, leak t).

Theorem (one hidden layer): if N <= d0 d1, then for almost every data set and noise
realisation every *differentiable* local minimum of the quadratic loss has zero training
error. Mechanism: inside one activation region sigma(w_r . x_n) = s_nr (w_r . x_n) with s_nr in
{1, leak} fixed, so f(x_n) = G_n . vec(W) with the Khatri-Rao row G_n = a_n (x) x_n,
a_nr = z_r eps_nr s_nr. The gradient of the sum loss 1/2 ||f - y||^2 in W is G^T (f - y); G is
N x d0 d1 and has rank N for generic data when N <= d0 d1, so dL/dW = 0 forces f = y.

Closed forms (sympy, lambdified for numbers):

- ``REGIME``: N <= d0 d1, the theorem's over-parameterization condition.
- ``PARAMETER_COUNT``: d1 (d0 + 1) trainable weights (no biases). ``PARAMETER_FLOOR``: when
  d1 (d0 + 1) < N the output map R^P -> R^N is piecewise polynomial on a lower-dimensional
  domain, so its image has measure zero and continuous random labels are a.s. not interpolated.
- ``EFFECTIVE_DIMENSION``: d0 d1. Each unit is positively homogeneous, so
  z_r sigma(w_r . x) = sign(z_r) sigma(|z_r| w_r . x): the outputs depend on theta only through
  the d1 vectors u_r = |z_r| w_r (and the signs), and the output map has rank <= d0 d1 < P.
  Below it (d0 d1 < N) random labels are a.s. not interpolated: the theorem's threshold
  N <= d0 d1 is exactly where interpolation becomes possible by dimension count.
- ``RESIDUAL_BOUND``: for the *mean* loss L = 1/(2N) ||f - y||^2, grad_W L = G^T (f - y) / N,
  hence ||f - y|| <= N ||grad_W L|| / sigma_N(G) whenever rank G = N (an exact inequality, true
  at every differentiable point, not only at critical points).

Example (N = 60 samples in d0 = 6 dimensions: the regime starts at d1 = 10):
    >>> in_regime(60, 6, 10), in_regime(60, 6, 9)
    (True, False)
    >>> parameter_count(6, 5)
    35
"""

from __future__ import annotations

import sympy as sp

N, d0, d1 = sp.symbols("N d_0 d_1", positive=True, integer=True)
grad_norm, sigma_min = sp.symbols("g sigma_N", positive=True)

REGIME = sp.Le(N, d0 * d1)
PARAMETER_COUNT = d1 * (d0 + 1)
PARAMETER_FLOOR = sp.StrictLessThan(PARAMETER_COUNT, N)
EFFECTIVE_DIMENSION = d0 * d1
RESIDUAL_BOUND = N * grad_norm / sigma_min

_regime = sp.lambdify((N, d0, d1), REGIME, modules="math")
_parameter_count = sp.lambdify((d0, d1), PARAMETER_COUNT, modules="math")
_floor = sp.lambdify((N, d0, d1), PARAMETER_FLOOR, modules="math")
_effective_dimension = sp.lambdify((d0, d1), EFFECTIVE_DIMENSION, modules="math")
_residual_bound = sp.lambdify((N, grad_norm, sigma_min), RESIDUAL_BOUND, modules="math")


def in_regime(n_samples: int, input_dim: int, width: int) -> bool:
    """N <= d0 d1 (Soudry & Carmon's condition for no bad differentiable local minima)."""
    return bool(_regime(n_samples, input_dim, width))


def parameter_count(input_dim: int, width: int) -> int:
    """d1 (d0 + 1): first-layer weights plus output weights (no biases)."""
    return int(_parameter_count(input_dim, width))


def below_parameter_floor(n_samples: int, input_dim: int, width: int) -> bool:
    """d1 (d0 + 1) < N: random continuous labels cannot be interpolated (almost surely)."""
    return bool(_floor(n_samples, input_dim, width))


def effective_dimension(input_dim: int, width: int) -> int:
    """d0 d1: the largest rank of the output map theta -> (f(x_1), ..., f(x_N)).

    Example:
        >>> effective_dimension(6, 5), parameter_count(6, 5)
        (30, 35)
    """
    return int(_effective_dimension(input_dim, width))


def residual_bound(n_samples: int, grad_w_norm: float, sigma_n: float) -> float:
    """N ||grad_W L|| / sigma_N(G): bound on ||f - y|| for the mean loss (rank G = N).

    Example:
        >>> residual_bound(4, 0.5, 2.0)
        1.0
    """
    return float(_residual_bound(n_samples, grad_w_norm, sigma_n))


def weight_gradient(design, residual, n_samples: int):
    """grad_W L = G^T (f - y) / N for the mean loss L = 1/(2N) ||f - y||^2, inside one
    activation region (f = G vec(W)); numpy arrays ``design`` (..., N, d1 d0) and
    ``residual`` (..., N) give (..., d1 d0).

    Example (one sample, G = [[1, 2]], f - y = 3: the gradient is [3, 6]):
        >>> import numpy as np
        >>> weight_gradient(np.array([[1.0, 2.0]]), np.array([3.0]), 1).tolist()
        [3.0, 6.0]
    """
    import numpy as np

    return np.einsum("...np,...n->...p", design, residual) / n_samples


# Symbolic mechanism, used by proofs_checks/soudry2016_khatri_rao_mechanism.py -----------------


def region_output(W: sp.Matrix, z: sp.Matrix, eps: sp.Matrix, slopes: sp.Matrix, x: sp.Matrix):
    """f(x) = sum_r z_r eps_r s_r (w_r . x) inside a fixed activation region (slopes s_r)."""
    return sum(z[r] * eps[r] * slopes[r] * (W[r, :] * x)[0, 0] for r in range(W.shape[0]))


def design_row(z: sp.Matrix, eps: sp.Matrix, slopes: sp.Matrix, x: sp.Matrix) -> sp.Matrix:
    """Khatri-Rao row a (x) x with a_r = z_r eps_r s_r, ordered like vec(W) row by row."""
    a = [z[r] * eps[r] * slopes[r] for r in range(len(z))]
    return sp.Matrix([[a_r * x_j for a_r in a for x_j in x]])
