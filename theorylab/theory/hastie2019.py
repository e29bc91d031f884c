"""Hastie, Montanari, Rosset, Tibshirani, "Surprises in High-Dimensional Ridgeless Least Squares
Interpolation", Ann. Statist. 2022 (arXiv:1903.08560): isotropic features, proportional limit.

Setting: x ~ N(0, I_p), y = x . beta + eps, Var eps = s2, ||beta||^2 = r2, n, p -> infinity with
gamma = p/n. Ridge uses the n*lambda convention,

    beta_hat_lambda = (X^T X + n lambda I)^{-1} X^T y   (the minimiser of
    (1/n)||y - X b||^2 + lambda ||b||^2),

and the risk is R = E_x0 (x0 . (beta_hat - beta))^2 = ||beta_hat - beta||^2 (noise excluded).

Closed forms (sympy expressions, built on first access; numbers through plain floats and, for
the Stieltjes transform, mpmath at 50 digits, so a run never imports sympy):

- ``RIDGELESS_UNDER`` = s2 gamma / (1 - gamma) for gamma < 1 (Thm 1/2, isotropic case);
  ``RIDGELESS_OVER`` = r2 (1 - 1/gamma) + s2 / (gamma - 1) for gamma > 1 (Thm 1/2).
- ``STIELTJES``: the Marchenko-Pastur law of the eigenvalues of X^T X / n (ratio gamma) has
  Stieltjes transform m(z) = integral dF(s)/(s - z), the root of gamma z m^2 - (1 - gamma - z) m
  + 1 = 0 with m(z) > 0 for z < 0:
      m(z) = (1 - gamma - z - sqrt((1 - gamma - z)^2 - 4 gamma z)) / (2 gamma z);
  ``STIELTJES_RATIONALISED`` = 2 / (1 - gamma - z + sqrt(...)) is the same number without the
  cancellation at small |z| for gamma < 1 (proofs_checks/hastie2019_stieltjes.py).
  Its derivative follows from differentiating the quadratic: with S = sqrt((1 - gamma - z)^2
  - 4 gamma z), 1 - gamma - z - 2 gamma z m = S at this root, so m'(z) = m (1 + gamma m) / S
  (every factor positive for z < 0: no cancellation), which :func:`stieltjes_derivative`
  evaluates; tests compare it with the sympy derivative and with the MP integral.
- ``RIDGE_RISK`` = r2 lambda^2 m'(-lambda) + s2 gamma (m(-lambda) - lambda m'(-lambda))
  (Thm 5, isotropic ridge; m' is the analytic derivative of m. A finite difference at small
  lambda is wrong for gamma > 1: m has the pole (1 - 1/gamma)/(-z) from the atom of F at 0).
- ``LAMBDA_OPT`` = s2 gamma / r2 minimises ``RIDGE_RISK`` (Thm 5 / Cor 6), and the optimum is
  ``RIDGE_RISK_AT_OPT`` = s2 gamma m(-lambda*). The optimum is exact at every finite n too:
  with beta rotated uniformly, ridge with n lambda = s2 p / r2 is the Bayes posterior mean
  under beta ~ N(0, (r2/p) I), whose risk equals the fixed-norm risk (bias is quadratic in beta).

Checked by consequences: the lambda -> 0 limits of the ridge formula equal the ridgeless
forms, lambda* is its stationary point, and m solves the Marchenko-Pastur equation
(proofs_checks/hastie2019_*.py); m and m' equal the MP integrals (tests/theory).

Example (gamma = 1/2, s2 = 1: risk 1; gamma = 2, r2 = 1, s2 = 0: 1/2):
    >>> ridgeless_risk(0.5, r2=1.0, s2=1.0), ridgeless_risk(2.0, r2=1.0, s2=0.0)
    (1.0, 0.5)
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import mpmath

DIGITS = 50


def ridgeless_risk(gamma_value: float, r2: float, s2: float) -> float:
    """Limit risk of pinv(X) y at gamma = p/n (inf at gamma = 1).

    Example: ``ridgeless_risk(0.25, 1.0, 3.0) == 1.0`` (3 * 0.25 / 0.75).
    """
    if gamma_value == 1:
        return math.inf
    if gamma_value < 1:
        return s2 * gamma_value / (1 - gamma_value)
    return r2 * (1 - 1 / gamma_value) + s2 / (gamma_value - 1)


def _stieltjes_pair(gamma_value: float, z_value: float):
    """(m(z), m'(z)) at 50 digits for z < 0, from whichever algebraically equal form of m has
    no cancellation, and m' = m (1 + gamma m) / S."""
    with mpmath.workdps(DIGITS):
        g, zz = mpmath.mpf(gamma_value), mpmath.mpf(z_value)
        a = 1 - g - zz
        root = mpmath.sqrt(a * a - 4 * g * zz)
        m_value = 2 / (a + root) if a >= 0 else (a - root) / (2 * g * zz)
        return m_value, m_value * (1 + g * m_value) / root


def stieltjes(gamma_value: float, z_value: float) -> float:
    """Marchenko-Pastur Stieltjes transform m(z) for z < 0.

    Example: at gamma -> 0 the law is a point mass at 1, m(z) -> 1/(1 - z); at gamma = 1e-12,
    ``stieltjes(1e-12, -1.0)`` is 0.5 to 12 digits.
    """
    return float(_stieltjes_pair(gamma_value, z_value)[0])


def stieltjes_derivative(gamma_value: float, z_value: float) -> float:
    """m'(z) = integral dF(s)/(s - z)^2, the analytic derivative of ``STIELTJES``."""
    return float(_stieltjes_pair(gamma_value, z_value)[1])


def ridge_risk(gamma_value: float, lambda_value: float, r2: float, s2: float) -> float:
    """``RIDGE_RISK`` at (gamma, lambda > 0), n*lambda convention.

    Example: as lambda -> infinity beta_hat -> 0 and the risk -> r2:
    ``round(ridge_risk(0.5, 1e9, 2.0, 1.0), 6) == 2.0``.
    """
    m_val, dm_val = _stieltjes_pair(gamma_value, -lambda_value)
    with mpmath.workdps(DIGITS):
        lv = mpmath.mpf(lambda_value)
        out = r2 * lv**2 * dm_val + s2 * gamma_value * (m_val - lv * dm_val)
    return float(out)


def optimal_lambda(gamma_value: float, r2: float, s2: float) -> float:
    """lambda* = s2 gamma / r2 (n*lambda convention); ``optimal_lambda(2, 1, 0.5) == 1.0``."""
    return s2 * gamma_value / r2


def optimal_ridge_risk(gamma_value: float, r2: float, s2: float) -> float:
    """R(lambda*) = s2 gamma m(-lambda*), the risk of optimally tuned ridge.

    At s2 = 0 (lambda* = 0) this is the ridgeless risk, its limit.
    """
    if s2 == 0:
        return ridgeless_risk(gamma_value, r2, s2)
    lam_opt = optimal_lambda(gamma_value, r2, s2)
    return float(s2 * gamma_value * _stieltjes_pair(gamma_value, -lam_opt)[0])


@functools.cache
def symbolic() -> SimpleNamespace:
    """The sympy expressions of this module (built once, on first use)."""
    import sympy as sp

    gamma, lam = sp.symbols("gamma lambda", positive=True)
    z = sp.Symbol("z", real=True)
    r2, s2 = sp.symbols("r2 s2", nonnegative=True)
    m = sp.Symbol("m")
    a = 1 - gamma - z
    stieltjes_expr = (a - sp.sqrt(a**2 - 4 * gamma * z)) / (2 * gamma * z)
    rationalised = 2 / (a + sp.sqrt(a**2 - 4 * gamma * z))
    ns = SimpleNamespace(
        gamma=gamma, lam=lam, z=z, r2=r2, s2=s2, m=m,
        RIDGELESS_UNDER=s2 * gamma / (1 - gamma),
        RIDGELESS_OVER=r2 * (1 - 1 / gamma) + s2 / (gamma - 1),
        MP_EQUATION=gamma * z * m**2 - (1 - gamma - z) * m + 1,
        STIELTJES=stieltjes_expr, STIELTJES_RATIONALISED=rationalised,
        STIELTJES_DERIVATIVE=sp.diff(stieltjes_expr, z),
        STIELTJES_RATIONALISED_DERIVATIVE=sp.diff(rationalised, z),
        # the form the numbers use: m' = m (1 + gamma m) / S
        STIELTJES_DERIVATIVE_FROM_ROOT=stieltjes_expr * (1 + gamma * stieltjes_expr)
        / sp.sqrt(a**2 - 4 * gamma * z),
        LAMBDA_OPT=s2 * gamma / r2,
    )  # fmt: skip
    ns.RIDGE_RISK = _ridge_risk_expression(ns, stieltjes_expr)
    ns.RIDGE_RISK_AT_OPT = s2 * gamma * stieltjes_expr.subs(z, -ns.LAMBDA_OPT)
    return ns


def _ridge_risk_expression(ns: SimpleNamespace, stieltjes_expr):
    import sympy as sp

    m_at = stieltjes_expr.subs(ns.z, -ns.lam)
    dm_at = sp.diff(stieltjes_expr, ns.z).subs(ns.z, -ns.lam)
    return ns.r2 * ns.lam**2 * dm_at + ns.s2 * ns.gamma * (m_at - ns.lam * dm_at)


def ridge_risk_expression(stieltjes=None):
    """R(lambda) = r2 lambda^2 m'(-lambda) + s2 gamma (m(-lambda) - lambda m'(-lambda)) for a
    given expression m(z) (default ``STIELTJES``; proofs_checks pass a mutated transform)."""
    ns = symbolic()
    return _ridge_risk_expression(ns, ns.STIELTJES if stieltjes is None else stieltjes)


SYMBOLIC_NAMES = (
    "gamma", "lam", "z", "r2", "s2", "m", "RIDGELESS_UNDER", "RIDGELESS_OVER", "MP_EQUATION",
    "STIELTJES", "STIELTJES_RATIONALISED", "STIELTJES_DERIVATIVE",
    "STIELTJES_RATIONALISED_DERIVATIVE", "STIELTJES_DERIVATIVE_FROM_ROOT", "LAMBDA_OPT",
    "RIDGE_RISK", "RIDGE_RISK_AT_OPT",
)  # fmt: skip


def __getattr__(name: str):
    """Symbols and expressions (``hastie2019.RIDGE_RISK``) from :func:`symbolic`."""
    if name not in SYMBOLIC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(symbolic(), name)
