"""Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry, Srebro, "Kernel and Rich Regimes
in Overparametrized Models", COLT 2020 (arXiv:2002.09277), Thm 1; the diagonal linear network.

Setting: predictor x -> <beta, x> with beta = u*u - v*v (coordinate-wise), u(0) = v(0) = alpha 1,
gradient flow on the square loss L = 1/2 ||X beta - y||^2 (sum; any positive scaling of the loss
only reparameterises time) for an underdetermined consistent X beta = y. With g = X^T r,
u' = -2 u g and v' = 2 v g integrate to u = alpha e^{-2G}, v = alpha e^{2G} (G = int g dt), so

    beta(t) = 2 alpha^2 sinh(X^T nu(t)),   nu(t) = -4 int_0^t r dt    (``LINK``).

If the flow interpolates, X beta = y, and this is exactly the KKT condition of

    minimise Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2) subject to X beta = y,
    q(z) = 2 - sqrt(4 + z^2) + z asinh(z/2)                                     (``Q``),

because q'(z) = asinh(z/2) (``Q_DERIVATIVE``), so grad Q_alpha(beta) = X^T nu is the LINK.
The convex conjugate of alpha^2 q(beta/alpha^2) is 2 alpha^2 (cosh s - 1) = 4 alpha^2 sinh^2(s/2)
(``CONJUGATE``); the
dual problem min_nu sum_i 2 alpha^2 cosh((X^T nu)_i) - nu.y is smooth and strictly convex, and
:func:`solve_q_alpha` solves it by damped Newton, independently of any training.

Regimes, with explicit constants derived here from elementary bounds on q (proofs_checks/):

- kernel (alpha large): z^2/4 - z^4/192 <= q(z) <= z^2/4 (``KERNEL_LOWER``, ``KERNEL_UPPER``)
  and Pythagoras in null(X) give ||beta_alpha - beta_l2||_2^2 <= ||beta_alpha||_4^4/(48 alpha^4)
  (``KERNEL_DISTANCE_SQ_BOUND``): the minimiser tends to the minimum-l2 solution like alpha^-2.
- rich (alpha small): |z| log|z| - |z| <= q(z) <= |z| log(1 + |z|) - |z| + 2 (``RICH_LOWER``,
  ``RICH_UPPER``); comparing Q_alpha(beta_alpha) <= Q_alpha(beta_l1) gives, with
  L = log(1/alpha^2) > 1, S_1 = sum_i |b1_i| log(alpha^2 + |b1_i|) and
  S_a = sum_i |ba_i| log |ba_i|,

      ||beta_alpha||_1 - ||beta_l1||_1 <= (S_1 - S_a + 2 d alpha^2) / (L - 1)
                                                            (``L1_EXCESS_BOUND``),

  a bound that decays like 1/log(1/alpha): the approach to the minimum-l1 solution is slow.

Example (q(0) = 0, q'(0) = 0):
    >>> float(Q.subs(z, 0)), float(Q_DERIVATIVE.subs(z, 0))
    (0.0, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

z = sp.Symbol("z", real=True)
t_abs = sp.Symbol("t", positive=True)  # |z| in the one-sided bounds
s_dual = sp.Symbol("s", real=True)  # (X^T nu)_i
alpha = sp.Symbol("alpha", positive=True)
d_sym = sp.Symbol("d", positive=True)
S_l1, S_alpha = sp.symbols("S_1 S_alpha", real=True)
beta_4_sq = sp.Symbol("B4", nonnegative=True)  # ||beta_alpha||_4^2

Q = 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)
Q_DERIVATIVE = sp.asinh(z / 2)
LINK = 2 * alpha**2 * sp.sinh(s_dual)
CONJUGATE = 4 * alpha**2 * sp.sinh(s_dual / 2) ** 2  # = 2 alpha^2 (cosh s - 1), no cancellation
KERNEL_UPPER = z**2 / 4
KERNEL_LOWER = z**2 / 4 - z**4 / 192
RICH_LOWER = t_abs * sp.log(t_abs) - t_abs
RICH_UPPER = t_abs * sp.log(1 + t_abs) - t_abs + 2
KERNEL_DISTANCE_SQ_BOUND = beta_4_sq**2 / (48 * alpha**4)
# Leading order of argmin Q_alpha at large alpha: with q(z) = c2 z^2 + c4 z^4 + O(z^6), the
# stationarity condition P_null(grad Q_alpha(beta)) = 0 at beta = beta_l2 + delta, delta in
# null(X), gives delta = -(2 c4 / c2) P_null(beta_l2^3) / alpha^4 + O(alpha^-8):
# ``KERNEL_OFFSET_COEFFICIENT`` = -2 c4 / c2 = 1/24.
_Q_SERIES = sp.series(Q, z, 0, 6).removeO()
KERNEL_OFFSET_COEFFICIENT = sp.nsimplify(-2 * _Q_SERIES.coeff(z, 4) / _Q_SERIES.coeff(z, 2))
L1_EXCESS_BOUND = (S_l1 - S_alpha + 2 * d_sym * alpha**2) / (sp.log(1 / alpha**2) - 1)

_q = sp.lambdify(z, Q, modules="numpy")
_TORCH = [{"sinh": torch.sinh, "cosh": torch.cosh}, "math"]  # tensors in, python scalars as is
_link = sp.lambdify((alpha, s_dual), LINK, modules=_TORCH)
_conjugate = sp.lambdify((alpha, s_dual), CONJUGATE, modules=_TORCH)
_kernel_distance_sq = sp.lambdify((beta_4_sq, alpha), KERNEL_DISTANCE_SQ_BOUND, modules="math")
_l1_excess = sp.lambdify((S_l1, S_alpha, d_sym, alpha), L1_EXCESS_BOUND, modules="math")


def q_alpha(beta: torch.Tensor, alpha_value: float) -> float:
    """Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2).

    >>> round(q_alpha(torch.tensor([1e-4], dtype=torch.float64), 1.0) / 1e-8, 6)  # ~ beta^2/4
    0.25
    """
    zs = (beta / alpha_value**2).detach().cpu().numpy().astype(np.float64)
    return float(alpha_value**2 * np.sum(_q(zs)))


def link(alpha_value: float, s_values: torch.Tensor) -> torch.Tensor:
    """beta = 2 alpha^2 sinh(s), the flow's (and KKT's) map from dual to primal."""
    return _link(alpha_value, s_values)


def conjugate(alpha_value: float, s_values: torch.Tensor) -> torch.Tensor:
    """4 alpha^2 sinh^2(s/2) = 2 alpha^2 (cosh s - 1), the convex conjugate of alpha^2 q(./alpha^2)
    (elementwise); its derivative is :func:`link`."""
    return _conjugate(alpha_value, s_values)


def kernel_distance_bound(beta_alpha: torch.Tensor, alpha_value: float) -> float:
    """||beta_alpha||_4^2 / (sqrt(48) alpha^2): bounds ||beta_alpha - beta_l2||_2."""
    b4sq = float(beta_alpha.pow(4).sum().sqrt())
    return math.sqrt(_kernel_distance_sq(b4sq, alpha_value))


def kernel_regime_offset(
    X: torch.Tensor, beta_l2: torch.Tensor, alpha_value: float
) -> torch.Tensor:
    """argmin Q_alpha - beta_l2 to leading order at large alpha: P_null(beta_l2^3) / (24 alpha^4).

    From q(z) = z^2/4 - z^4/192 + O(z^6) (``KERNEL_OFFSET_COEFFICIENT`` = 1/24): the next term is
    relatively O(max|beta|^2 / alpha^4). P_null = I - pinv(X) X projects onto null(X).

    Example (X = [1, 1], beta_l2 = (1, 1): beta^3 = (1, 1) lies in the row space, no offset):
        >>> X = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
        >>> offset = kernel_regime_offset(X, torch.ones(2, dtype=torch.float64), 10.0)
        >>> bool(offset.abs().max() < 1e-20)
        True
    """
    cube = beta_l2.to(torch.float64) ** 3
    X = X.to(torch.float64)
    in_row_space = torch.linalg.pinv(X) @ (X @ cube)
    return float(KERNEL_OFFSET_COEFFICIENT) * (cube - in_row_space) / alpha_value**4


def l1_excess_bound(beta_l1: torch.Tensor, beta_alpha: torch.Tensor, alpha_value: float) -> float:
    """(S_1 - S_a + 2 d alpha^2)/(log(1/alpha^2) - 1): bounds ||beta_a||_1 - ||beta_l1||_1.

    Valid for alpha^2 < 1/e (returns nan otherwise); 0 log 0 = 0.
    """
    if alpha_value**2 >= math.exp(-1):
        return math.nan
    b1 = beta_l1.abs().to(torch.float64)
    ba = beta_alpha.abs().to(torch.float64)
    s1 = float((b1 * torch.log(alpha_value**2 + b1)).sum())
    sa = float(torch.where(ba > 0, ba * torch.log(ba.clamp_min(1e-300)), 0.0).sum())
    return float(_l1_excess(s1, sa, beta_l1.numel(), alpha_value))


@dataclass(frozen=True)
class QAlphaSolution:
    beta: torch.Tensor
    nu: torch.Tensor
    iterations: int
    constraint_residual: float  # ||X beta - y|| / ||y||


def solve_q_alpha(
    X: torch.Tensor, y: torch.Tensor, alpha_value: float, tol: float = 1e-12, max_iter: int = 200
) -> QAlphaSolution:
    """argmin Q_alpha(beta) s.t. X beta = y, by damped Newton on the dual.

    Dual objective phi(nu) = sum_i 4 alpha^2 sinh^2((X^T nu)_i / 2) - nu.y (``CONJUGATE``):
    grad phi = X beta(nu) - y with beta(nu) = 2 alpha^2 sinh(X^T nu) (``LINK``), Hessian
    X diag(2 alpha^2 cosh(X^T nu)) X^T (positive definite for full-row-rank X). Backtracking
    (Armijo, 1/4; or, once phi's decrease is below rounding, a halving of the residual)
    globalises the method; stops when ||X beta - y|| <= tol ||y||.
    Works in float64 whatever the run's dtype.

    >>> X = torch.eye(2, dtype=torch.float64)
    >>> sol = solve_q_alpha(X, torch.tensor([1.0, -2.0], dtype=torch.float64), 0.5)
    >>> [round(v, 12) for v in sol.beta.tolist()]  # X = I: the constraint fixes beta
    [1.0, -2.0]
    """
    X = X.to(torch.float64)
    y = y.to(torch.float64)
    y_norm = float(y.norm())
    nu = torch.zeros(X.shape[0], dtype=torch.float64, device=X.device)

    def phi(v):
        return float(conjugate(alpha_value, X.T @ v).sum() - v @ y)

    residual = math.inf
    for iteration in range(max_iter + 1):
        s_values = X.T @ nu
        beta = link(alpha_value, s_values)
        grad = X @ beta - y
        residual = float(grad.norm()) / max(y_norm, 1e-300)
        if residual <= tol or iteration == max_iter:
            break
        hessian = X @ (2 * alpha_value**2 * torch.cosh(s_values)[:, None] * X.T)
        direction = torch.linalg.solve(hessian, grad)
        decrease = float(grad @ direction)
        current, step = phi(nu), 1.0
        while step > 1e-12:
            candidate = nu - step * direction
            if phi(candidate) <= current - 0.25 * step * decrease:
                break
            # Near the optimum phi's decrease drowns in rounding; the residual still shows it.
            new_residual = float((X @ link(alpha_value, X.T @ candidate) - y).norm())
            if new_residual <= (1 - step / 2) * residual * max(y_norm, 1e-300):
                break
            step *= 0.5
        if step <= 1e-12:  # no progress left at double precision: as good as it gets
            break
        nu = nu - step * direction
    return QAlphaSolution(beta, nu, iteration, residual)


def min_l1_solution(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """argmin ||beta||_1 s.t. X beta = y, as the linear program over (beta, t), |beta| <= t
    (scipy's HiGHS). Raises RuntimeError if the solver fails."""
    from scipy.optimize import linprog

    Xn = X.detach().cpu().numpy().astype(np.float64)
    yn = y.detach().cpu().numpy().astype(np.float64)
    n, d = Xn.shape
    eye = np.eye(d)
    cost = np.concatenate([np.zeros(d), np.ones(d)])
    A_ub = np.block([[eye, -eye], [-eye, -eye]])
    A_eq = np.concatenate([Xn, np.zeros((n, d))], axis=1)
    bounds = [(None, None)] * d + [(0, None)] * d
    result = linprog(
        cost, A_ub=A_ub, b_ub=np.zeros(2 * d), A_eq=A_eq, b_eq=yn, bounds=bounds, method="highs"
    )
    if result.status != 0:
        raise RuntimeError(f"min-l1 linear program failed: {result.message}")
    return torch.as_tensor(result.x[:d], dtype=torch.float64)
