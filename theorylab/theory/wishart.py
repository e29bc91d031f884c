"""Finite-n risk of minimum-norm least squares with isotropic Gaussian rows (Wishart moments).

Setting (Hastie, Montanari, Rosset, Tibshirani 2019, arXiv:1903.08560, Sec. 2; Belkin, Hsu, Xu
2019, arXiv:1903.07571, Thm 1): rows x_i ~ N(0, I_p), i = 1..n; y = X beta + eps with
eps ~ N(0, s2 I) and ||beta||^2 = r2; beta_hat = pinv(X) y, which is ordinary least squares for
p < n, the minimum-norm interpolator for p > n, and the limit of gradient descent from zero on
either side. The prediction risk R = E_x0 (x0 . (beta_hat - beta))^2 = ||beta_hat - beta||^2.

Conditional on X, averaged over the noise only, the risk is an exact trace formula

    R(X) = ||(I - P_row) beta||^2 + s2 tr((X^T X)^+),                                  (1)

P_row the projection onto the row space of X. Its expectation over X uses two moments:

- ``INVERSE_CHI2_MEAN``: E[1/chi2_k] = 1/(k - 2) for k > 2. For W = X^T X (p <= n) the
  Schur complement gives (W^{-1})_jj = 1 / (x_j^T (I - P_{-j}) x_j) with the denominator
  chi2 with k = n - p + 1 degrees of freedom, so E tr(W^{-1}) = p / (n - p - 1). For p >= n the
  same with the n x n matrix X X^T and k = p - n + 1: E tr((X X^T)^{-1}) = n / (p - n - 1).
- E ||(I - P_row) beta||^2 = r2 (1 - n/p) for p >= n: P_row is a uniformly rotated rank-n
  projection, E P_row = (n/p) I.

Hence (``RISK_UNDER`` and ``RISK_OVER``)

    p <= n - 2:  E R = s2 p / (n - p - 1);
    p >= n + 2:  E R = r2 (1 - n/p) + s2 n / (p - n - 1);

and E R = infinity for |p - n| <= 1 (k <= 2: E[1/chi2_k] diverges at the origin).
The Monte-Carlo variance of (1) needs E[1/chi2_k^2] = 1/((k - 2)(k - 4)) finite, i.e. k > 4,
|p - n| >= 4 (``INVERSE_CHI2_SECOND_MOMENT``); closer to the threshold a sample mean of (1) has
no standard error.

Numbers and symbols: :func:`risk` evaluates the two closed forms in plain floating point, so a
run never imports sympy. The sympy expressions (``CHI2_DENSITY``, ``INVERSE_CHI2_MEAN``,
``RISK_UNDER``, ..., and the symbols ``n``, ``p``, ``k``, ``r2``, ``s2``, ``chi``) are built on
first access; proofs_checks/wishart_*.py derive them from the chi-square density, and
tests/theory/test_wishart.py checks that :func:`risk` evaluates exactly them.

Example (n = 100, p = 50, s2 = 1: 50/49):
    >>> round(risk(n=100, p=50, r2=1.0, s2=1.0), 12)
    1.020408163265
    >>> round(risk(n=100, p=200, r2=1.0, s2=0.0), 12)
    0.5
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

# The smallest |p - n| at which the conditional risk (1) has a finite variance (k > 4).
MIN_GAP_FINITE_VARIANCE = 4
# |p - n| <= this: the expected risk itself is infinite (k <= 2).
INFINITE_RISK_GAP = 1


def risk(n: int, p: int, r2: float, s2: float) -> float:
    """E_X R of pinv(X) y at finite n (``RISK_UNDER`` / ``RISK_OVER``); inf for |p - n| <= 1.

    Example: at p = n + 2 the variance term is s2 n: ``risk(10, 12, 0, 1) == 10.0``.
    """
    if abs(p - n) <= INFINITE_RISK_GAP:
        return math.inf
    if p < n:
        return s2 * p / (n - p - 1)
    return r2 * (1 - n / p) + s2 * n / (p - n - 1)


@functools.cache
def symbolic() -> SimpleNamespace:
    """The sympy expressions of this module (built once, on first use)."""
    import sympy as sp

    n, p, k = sp.symbols("n p k", positive=True)
    r2, s2 = sp.symbols("r2 s2", nonnegative=True)
    chi = sp.Symbol("x", positive=True)  # the chi-square variable
    # Density of chi2_k (proofs_checks derive the two inverse moments below from it).
    density = chi ** (k / 2 - 1) * sp.exp(-chi / 2) / (2 ** (k / 2) * sp.gamma(k / 2))
    inverse_mean = 1 / (k - 2)
    # Degrees of freedom of the Schur-complement chi-square on each side of the threshold.
    dof_under, dof_over = n - p + 1, p - n + 1
    variance_under = s2 * p * inverse_mean.subs(k, dof_under)
    variance_over = s2 * n * inverse_mean.subs(k, dof_over)
    bias_over = r2 * (1 - n / p)
    return SimpleNamespace(
        n=n, p=p, k=k, r2=r2, s2=s2, chi=chi, CHI2_DENSITY=density,
        INVERSE_CHI2_MEAN=inverse_mean, INVERSE_CHI2_SECOND_MOMENT=1 / ((k - 2) * (k - 4)),
        DOF_UNDER=dof_under, DOF_OVER=dof_over, VARIANCE_UNDER=variance_under,
        VARIANCE_OVER=variance_over, BIAS_OVER=bias_over, RISK_UNDER=variance_under,
        RISK_OVER=bias_over + variance_over,
    )  # fmt: skip


SYMBOLIC_NAMES = (
    "n", "p", "k", "r2", "s2", "chi", "CHI2_DENSITY", "INVERSE_CHI2_MEAN",
    "INVERSE_CHI2_SECOND_MOMENT", "DOF_UNDER", "DOF_OVER", "VARIANCE_UNDER", "VARIANCE_OVER",
    "BIAS_OVER", "RISK_UNDER", "RISK_OVER",
)  # fmt: skip


def __getattr__(name: str):
    """Symbols and expressions (``wishart.RISK_UNDER``, ``wishart.n``) from :func:`symbolic`."""
    if name not in SYMBOLIC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(symbolic(), name)
