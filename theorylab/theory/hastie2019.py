"""Hastie, Montanari, Rosset, Tibshirani, "Surprises in High-Dimensional Ridgeless Least Squares
Interpolation", Ann. Statist. 2022 (arXiv:1903.08560): isotropic features, proportional limit.

Setting: x ~ N(0, I_p), y = x . beta + eps, Var eps = s2, ||beta||^2 = r2, n, p -> infinity with
gamma = p/n. Ridge uses the n*lambda convention,

    beta_hat_lambda = (X^T X + n lambda I)^{-1} X^T y   (the minimiser of
    (1/n)||y - X b||^2 + lambda ||b||^2),

and the risk is R = E_x0 (x0 . (beta_hat - beta))^2 = ||beta_hat - beta||^2 (noise excluded).

Closed forms (sympy expressions; numbers from them through mpmath at 50 digits):

- ``RIDGELESS_UNDER`` = s2 gamma / (1 - gamma) for gamma < 1 (Thm 1/2, isotropic case);
  ``RIDGELESS_OVER`` = r2 (1 - 1/gamma) + s2 / (gamma - 1) for gamma > 1 (Thm 1/2).
- ``STIELTJES``: the Marchenko-Pastur law of the eigenvalues of X^T X / n (ratio gamma) has
  Stieltjes transform m(z) = integral dF(s)/(s - z), the root of gamma z m^2 - (1 - gamma - z) m
  + 1 = 0 with m(z) > 0 for z < 0:
      m(z) = (1 - gamma - z - sqrt((1 - gamma - z)^2 - 4 gamma z)) / (2 gamma z);
  ``STIELTJES_RATIONALISED`` = 2 / (1 - gamma - z + sqrt(...)) is the same number without the
  cancellation at small |z| for gamma < 1 (proofs_checks/hastie2019_stieltjes.py).
- ``RIDGE_RISK`` = r2 lambda^2 m'(-lambda) + s2 gamma (m(-lambda) - lambda m'(-lambda))
  (Thm 5, isotropic ridge; m' is the analytic derivative of m. A finite difference at small
  lambda is wrong for gamma > 1: m has the pole (1 - 1/gamma)/(-z) from the atom of F at 0).
- ``LAMBDA_OPT`` = s2 gamma / r2 minimises ``RIDGE_RISK`` (Thm 5 / Cor 6), and the optimum is
  ``RIDGE_RISK_AT_OPT`` = s2 gamma m(-lambda*). The optimum is exact at every finite n too:
  with beta rotated uniformly, ridge with n lambda = s2 p / r2 is the Bayes posterior mean
  under beta ~ N(0, (r2/p) I), whose risk equals the fixed-norm risk (bias is quadratic in beta).

Verified against the paper text only in part: the ridgeless forms and lambda* agree with the
statements quoted in the issue; the ridge formula is checked here by its consequences (its
lambda -> 0 limits equal the ridgeless forms, lambda* is its stationary point, and
m solves the Marchenko-Pastur equation), see proofs_checks/hastie2019_*.py.

Example (gamma = 1/2, s2 = 1: risk 1; gamma = 2, r2 = 1, s2 = 0: 1/2):
    >>> ridgeless_risk(0.5, r2=1.0, s2=1.0), ridgeless_risk(2.0, r2=1.0, s2=0.0)
    (1.0, 0.5)
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp

gamma, lam = sp.symbols("gamma lambda", positive=True)
z = sp.Symbol("z", real=True)
r2, s2 = sp.symbols("r2 s2", nonnegative=True)
m = sp.Symbol("m")

RIDGELESS_UNDER = s2 * gamma / (1 - gamma)
RIDGELESS_OVER = r2 * (1 - 1 / gamma) + s2 / (gamma - 1)

MP_EQUATION = gamma * z * m**2 - (1 - gamma - z) * m + 1
_a = 1 - gamma - z
STIELTJES = (_a - sp.sqrt(_a**2 - 4 * gamma * z)) / (2 * gamma * z)
STIELTJES_RATIONALISED = 2 / (_a + sp.sqrt(_a**2 - 4 * gamma * z))
STIELTJES_DERIVATIVE = sp.diff(STIELTJES, z)
STIELTJES_RATIONALISED_DERIVATIVE = sp.diff(STIELTJES_RATIONALISED, z)


def ridge_risk_expression(stieltjes=STIELTJES):
    """R(lambda) = r2 lambda^2 m'(-lambda) + s2 gamma (m(-lambda) - lambda m'(-lambda)) for a
    given expression m(z) (the argument lets proofs_checks pass a mutated transform)."""
    m_at = stieltjes.subs(z, -lam)
    dm_at = sp.diff(stieltjes, z).subs(z, -lam)
    return r2 * lam**2 * dm_at + s2 * gamma * (m_at - lam * dm_at)


RIDGE_RISK = ridge_risk_expression()
LAMBDA_OPT = s2 * gamma / r2
RIDGE_RISK_AT_OPT = s2 * gamma * STIELTJES.subs(z, -LAMBDA_OPT)

DIGITS = 50
_m_plain = sp.lambdify((gamma, z), STIELTJES, modules="mpmath")
_m_rational = sp.lambdify((gamma, z), STIELTJES_RATIONALISED, modules="mpmath")
_dm_plain = sp.lambdify((gamma, z), STIELTJES_DERIVATIVE, modules="mpmath")
_dm_rational = sp.lambdify((gamma, z), STIELTJES_RATIONALISED_DERIVATIVE, modules="mpmath")
_ridgeless_under = sp.lambdify((gamma, r2, s2), RIDGELESS_UNDER, modules="math")
_ridgeless_over = sp.lambdify((gamma, r2, s2), RIDGELESS_OVER, modules="math")
_lambda_opt = sp.lambdify((gamma, r2, s2), LAMBDA_OPT, modules="math")


def ridgeless_risk(gamma_value: float, r2: float, s2: float) -> float:
    """Limit risk of pinv(X) y at gamma = p/n (inf at gamma = 1).

    Example: ``ridgeless_risk(0.25, 1.0, 3.0) == 1.0`` (3 * 0.25 / 0.75).
    """
    if gamma_value == 1:
        return math.inf
    fn = _ridgeless_under if gamma_value < 1 else _ridgeless_over
    return float(fn(gamma_value, r2, s2))


def _stieltjes_pair(gamma_value: float, z_value: float):
    """(m(z), m'(z)) at 50 digits, from whichever algebraically equal form has no cancellation."""
    with mpmath.workdps(DIGITS):
        g, zz = mpmath.mpf(gamma_value), mpmath.mpf(z_value)
        if 1 - g - zz >= 0:
            return _m_rational(g, zz), _dm_rational(g, zz)
        return _m_plain(g, zz), _dm_plain(g, zz)


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
    return float(_lambda_opt(gamma_value, r2, s2))


def optimal_ridge_risk(gamma_value: float, r2: float, s2: float) -> float:
    """R(lambda*) = s2 gamma m(-lambda*), the risk of optimally tuned ridge.

    At s2 = 0 (lambda* = 0) this is the ridgeless risk, its limit.
    """
    if s2 == 0:
        return ridgeless_risk(gamma_value, r2, s2)
    lam_opt = optimal_lambda(gamma_value, r2, s2)
    return float(s2 * gamma_value * _stieltjes_pair(gamma_value, -lam_opt)[0])
