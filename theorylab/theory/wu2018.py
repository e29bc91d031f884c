"""Wu, Ma & E, "How SGD Selects the Global Minima in Over-parameterized Learning: A Dynamical
Stability Perspective", NeurIPS 2018.

Setting: f(x) = (1/n) sum_i f_i(x), f_i >= 0, a global minimum x* with f_i(x*) = 0 for all i;
SGD x_{t+1} = x_t - eta (1/B) sum_{i in batch_t} grad f_i(x_t), batches of size B drawn
uniformly without replacement. H_i = Hessian of f_i at x*, H = (1/n) sum_i H_i,
Sigma = (1/n) sum_i H_i^2 - H^2, sharpness a = lambda_max(H), non-uniformity
s = sqrt(lambda_max(Sigma)). Near x* the error e = x - x* follows e_{t+1} = (I - eta H_B) e_t.

Closed forms (sympy expressions, the single source; numbers come from lambdified versions):

- ``BATCH_FACTOR`` c_B = (n - B) / (B (n - 1)): for uniform batches without replacement
  E[H_B^2] = H^2 + c_B Sigma (the sampling identity; c_n = 0 is GD, c_1 = 1).
- ``ONE_D_FACTOR`` = (1 - eta a)^2 + eta^2 c_B s^2: in one dimension
  E[e_{t+1}^2] = ONE_D_FACTOR E[e_t^2], so the minimum is linearly stable iff it is <= 1.
- ``CRITICAL_STEP`` = 2 a / (a^2 + c_B s^2): the positive root of ONE_D_FACTOR = 1.
- ``SHARPNESS_BOUND`` = 2 / eta and ``NONUNIFORMITY_BOUND`` = sqrt(B (n-1) / (n - B)) / eta
  = 1 / (eta sqrt(c_B)): the two necessary conditions a <= 2/eta and s <= NONUNIFORMITY_BOUND
  (each term of ONE_D_FACTOR must be <= 1). In d > 1 the s-condition is only approximately
  necessary (Wu et al.); the exact criterion in any dimension is :func:`spectral_radius`.
- :func:`second_moment_operator`: vec(E[e_{t+1} e_{t+1}^T]) = T vec(E[e_t e_t^T]) with
  T = (I - eta H) (x) (I - eta H) + eta^2 c_B (S2 - H (x) H), S2 = (1/n) sum_i H_i (x) H_i
  (from the sampling identity applied to Kronecker products); mean-square stable iff
  rho(T) <= 1. Written once for sympy matrices and torch tensors alike.

Example (GD, B = n, has c_B = 0; one sample, B = 1, has c_B = 1):
    >>> batch_factor(10, 10), batch_factor(10, 1)
    (0.0, 1.0)
"""

from __future__ import annotations

import math

import sympy as sp
import torch

n, B = sp.symbols("n B", positive=True, integer=True)
eta, a, s = sp.symbols("eta a s", positive=True)

BATCH_FACTOR = (n - B) / (B * (n - 1))
ONE_D_FACTOR = (1 - eta * a) ** 2 + eta**2 * BATCH_FACTOR * s**2
CRITICAL_STEP = 2 * a / (a**2 + BATCH_FACTOR * s**2)
SHARPNESS_BOUND = 2 / eta
NONUNIFORMITY_BOUND = sp.sqrt(B * (n - 1) / (n - B)) / eta

_batch_factor = sp.lambdify((n, B), BATCH_FACTOR, modules="math")
_one_d_factor = sp.lambdify((eta, a, s, n, B), ONE_D_FACTOR, modules="math")
_critical_step = sp.lambdify((a, s, n, B), CRITICAL_STEP, modules="math")
_sharpness_bound = sp.lambdify(eta, SHARPNESS_BOUND, modules="math")
_nonuniformity_bound = sp.lambdify((eta, n, B), NONUNIFORMITY_BOUND, modules="math")


def batch_factor(n_value: int, batch: int) -> float:
    """c_B = (n - B) / (B (n - 1)) for batches of ``batch`` of ``n_value`` samples (n >= 2)."""
    return float(_batch_factor(n_value, batch))


def one_d_factor(eta_value: float, sharpness: float, s_value: float, n_value: int, batch: int):
    """(1 - eta a)^2 + eta^2 c_B s^2: the 1-D growth factor of E[e_t^2] per step.

    Example: a = 1, s = 0, eta = 2 gives (1 - 2)^2 = 1 (GD at its threshold).
        >>> one_d_factor(2.0, 1.0, 0.0, 4, 4)
        1.0
    """
    return float(_one_d_factor(eta_value, sharpness, s_value, n_value, batch))


def critical_step(sharpness: float, s_value: float, n_value: int, batch: int) -> float:
    """2 a / (a^2 + c_B s^2): the largest step with a 1-D mean-square-stable minimum (a, s)."""
    return float(_critical_step(sharpness, s_value, n_value, batch))


def sharpness_bound(eta_value: float) -> float:
    """2 / eta: GD (and SGD) stability needs a <= 2/eta."""
    return float(_sharpness_bound(eta_value))


def nonuniformity_bound(eta_value: float, n_value: int, batch: int) -> float:
    """sqrt(B (n-1)/(n-B)) / eta; +inf for B = n (GD puts no condition on s).

    Example: n = 3, B = 1, eta = 1 gives sqrt(1 * 2 / 2) = 1.
        >>> round(nonuniformity_bound(1.0, 3, 1), 12)
        1.0
    """
    if batch >= n_value:
        return math.inf
    return float(_nonuniformity_bound(eta_value, n_value, batch))


def _kron(A, C):
    if isinstance(A, torch.Tensor):
        return torch.kron(A, C)
    return sp.kronecker_product(sp.Matrix(A), sp.Matrix(C))


def _eye_like(A):
    if isinstance(A, torch.Tensor):
        return torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    return sp.eye(A.shape[0])


def second_moment_operator(sample_hessians, eta_value, c_b):
    """T = (I - eta H) (x) (I - eta H) + eta^2 c_B (S2 - H (x) H) from the list of H_i.

    ``sample_hessians``: a list of d x d sympy matrices, or a torch tensor (n, d, d); the result
    is the (d^2, d^2) operator with vec(M_{t+1}) = T vec(M_t) (row-major vec; T is symmetric
    because every H_i is). ``c_b`` is usually :func:`batch_factor` (a test may pass another).

    Example (d = 1, H_i = h_i: T = (1 - eta a)^2 + eta^2 c_B s^2, the 1-D factor):
        >>> T = second_moment_operator(torch.tensor([[[1.0]], [[3.0]]]), 0.5, 1.0)
        >>> float(T[0, 0]) == one_d_factor(0.5, 2.0, 1.0, 2, 1)
        True
    """
    hessians = list(sample_hessians)
    count = len(hessians)
    H = sum(hessians[1:], hessians[0]) / count
    step = _eye_like(H) - eta_value * H
    S2 = sum((_kron(Hi, Hi) for Hi in hessians[1:]), _kron(hessians[0], hessians[0])) / count
    return _kron(step, step) + eta_value**2 * c_b * (S2 - _kron(H, H))


def spectral_radius(T: torch.Tensor) -> float:
    """rho(T) of a symmetric operator matrix (largest |eigenvalue|)."""
    return float(torch.linalg.eigvalsh(0.5 * (T + T.T)).abs().max())
