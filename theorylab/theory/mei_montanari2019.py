"""Mei & Montanari, "The generalization error of random features regression: precise asymptotics
and double descent curve", Comm. Pure Appl. Math. 2022 (arXiv:1908.05355).

Setting: x_i ~ Unif(S^{d-1}(sqrt d)), i = 1..n; theta_a ~ Unif(S^{d-1}(sqrt d)), a = 1..N;
features sigma(<theta_a, x> / sqrt d); target y = <beta_1, x> + f_NL(x) + eps with
||beta_1||^2 = F1^2, E f_NL^2 = Fstar^2 and Var eps = tau^2. Ridge on the second layer,

    a_hat = argmin (1/n) sum_i (y_i - sum_j a_j sigma(<theta_j, x_i>/sqrt d))^2
            + (N lambda / d) ||a||^2,

i.e. a_hat = (Z^T Z + n (N lambda / d) I)^{-1} Z^T y with Z the n x N feature matrix. Proportional
limit N/d -> psi1, n/d -> psi2. Activation constants for G ~ N(0, 1): mu0 = E sigma(G),
mu1 = E G sigma(G), mu_star^2 = E sigma(G)^2 - mu0^2 - mu1^2, zeta = mu1 / mu_star
(``RELU_*``: exact values for sigma = ReLU, from sympy integrals).

Prediction (Thm 1): the test error E_x (f(x) - f_hat(x))^2 (noise excluded) converges to

    F1^2 B(zeta, psi1, psi2, lambda/mu_star^2) + (tau^2 + Fstar^2) V(...) + Fstar^2,

with B = E1/E0, V = E2/E0 (Def. 2) and the polynomials ``E0``, ``E1``, ``E2`` in
chi = nu1(i xi) nu2(i xi), xi = sqrt(psi1 psi2 lambda_bar), where (nu1, nu2) is the fixed point of
Def. 1:

    nu1 = psi1 / (-i xi - nu2 - zeta^2 nu2 / (1 - zeta^2 nu1 nu2)),
    nu2 = psi2 / (-i xi - nu1 - zeta^2 nu1 / (1 - zeta^2 nu1 nu2)).

On the imaginary axis nu_j = i a_j with a_j > 0, which turns Def. 1 into the real system
``FIXED_POINT_A1``/``FIXED_POINT_A2`` (a_j = psi_j / (xi + a_k + zeta^2 a_k / (1 + zeta^2 a1 a2)))
and chi = -a1 a2. Ridgeless limit (Thm 3): chi = ``CHI_RIDGELESS`` with psi = min(psi1, psi2),
and B, V as above at that chi; the ridgeless test error diverges at psi1 = psi2 (N = n), the
interpolation threshold.

Provenance: the fixed point, the polynomials E0, E1, E2 and the ridgeless chi are transcribed
from the paper (Def. 1, Def. 2, Thm 3); the search tool available here did not return the
formula text, so they were checked by their consequences: (i) the fixed-point chi at
lambda -> 0 equals the explicit ridgeless chi on both sides of the threshold
(proofs_checks/mei_montanari2019_ridgeless_limit.py); (ii) for psi1 < psi2 the ridgeless
variance equals the least-squares value psi1/(psi2 - psi1) (tests); (iii) the measured test
error of simulated ReLU random features matches at d = 100 (the claim's
``random_features_risk``). A recalled reduced form of Thm 3's E2 failed (ii) and is not used:
the ridgeless B and V are Def. 2's ratios at the ridgeless chi. zeta = mu1/mu_star is the
convention whose numbers agree with the simulation.

Example (ReLU: mu1 = 1/2, mu_star^2 = 1/4 - 1/(2 pi)):
    >>> round(float(RELU_ZETA), 6)
    1.658897
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import optimize

chi, zeta = sp.symbols("chi zeta", real=True)
psi1, psi2, lam_bar, xi = sp.symbols("psi1 psi2 lambda_bar xi", positive=True)
a1, a2 = sp.symbols("a1 a2", positive=True)
psi = sp.Symbol("psi", positive=True)  # min(psi1, psi2)
F1sq, Fstar_sq, tau2 = sp.symbols("F1sq Fstar_sq tau2", nonnegative=True)

# Activation constants of ReLU, from their defining Gaussian integrals.
_g = sp.Symbol("g", real=True)
_phi = sp.exp(-(_g**2) / 2) / sp.sqrt(2 * sp.pi)
RELU_MU0 = sp.integrate(_g * _phi, (_g, 0, sp.oo))
RELU_MU1 = sp.integrate(_g**2 * _phi, (_g, 0, sp.oo))
RELU_SECOND_MOMENT = sp.integrate(_g**2 * _phi, (_g, 0, sp.oo))
RELU_MU_STAR_SQ = sp.simplify(RELU_SECOND_MOMENT - RELU_MU0**2 - RELU_MU1**2)
RELU_ZETA = RELU_MU1 / sp.sqrt(RELU_MU_STAR_SQ)

# Def. 1 on the imaginary axis (nu_j = i a_j, xi = sqrt(psi1 psi2 lambda_bar)).
FIXED_POINT_A1 = psi1 / (xi + a2 + zeta**2 * a2 / (1 + zeta**2 * a1 * a2))
FIXED_POINT_A2 = psi2 / (xi + a1 + zeta**2 * a1 / (1 + zeta**2 * a1 * a2))
XI = sp.sqrt(psi1 * psi2 * lam_bar)
CHI_FROM_A = -a1 * a2

# Def. 2.
E0 = (
    -(chi**5) * zeta**6
    + 3 * chi**4 * zeta**4
    + (psi1 * psi2 - psi2 - psi1 + 1) * chi**3 * zeta**6
    - 2 * chi**3 * zeta**4
    - 3 * chi**3 * zeta**2
    + (psi1 + psi2 - 3 * psi1 * psi2 + 1) * chi**2 * zeta**4
    + 2 * chi**2 * zeta**2
    + chi**2
    + 3 * psi1 * psi2 * chi * zeta**2
    - psi1 * psi2
)
E1 = psi2 * chi**3 * zeta**4 - psi2 * chi**2 * zeta**2 + psi1 * psi2 * chi * zeta**2 - psi1 * psi2
E2 = (
    chi**5 * zeta**6
    - 3 * chi**4 * zeta**4
    + (psi1 - 1) * chi**3 * zeta**6
    + 2 * chi**3 * zeta**4
    + 3 * chi**3 * zeta**2
    + (-psi1 - 1) * chi**2 * zeta**4
    - 2 * chi**2 * zeta**2
    - chi**2
)
BIAS = E1 / E0
VARIANCE = E2 / E0
TEST_ERROR = F1sq * BIAS + (tau2 + Fstar_sq) * VARIANCE + Fstar_sq

# Thm 3 (ridgeless limit): chi at lambda -> 0 in closed form, psi = min(psi1, psi2). The test
# error is Def. 2's B = E1/E0 and V = E2/E0 evaluated at this chi (continuity in lambda; the
# paper prints the same ratios with the polynomials reduced, which could not be checked here).
_b = psi * zeta**2 - zeta**2 - 1
CHI_RIDGELESS = -(_b + sp.sqrt(_b**2 + 4 * psi * zeta**2)) / (2 * zeta**2)
CHI_RIDGELESS_EQUATION = zeta**2 * chi**2 + _b * chi - psi  # CHI_RIDGELESS is its negative root
E0_RIDGELESS = E0
E1_RIDGELESS = E1
E2_RIDGELESS = E2
BIAS_RIDGELESS = E1_RIDGELESS / E0_RIDGELESS
VARIANCE_RIDGELESS = E2_RIDGELESS / E0_RIDGELESS

_args = (chi, zeta, psi1, psi2)
_bias = sp.lambdify(_args, BIAS, modules="numpy")
_variance = sp.lambdify(_args, VARIANCE, modules="numpy")
_bias_rl = sp.lambdify(_args, BIAS_RIDGELESS, modules="numpy")
_variance_rl = sp.lambdify(_args, VARIANCE_RIDGELESS, modules="numpy")
_chi_rl = sp.lambdify((zeta, psi), CHI_RIDGELESS, modules="numpy")
_fp = sp.lambdify(
    (a1, a2, zeta, psi1, psi2, xi),
    [FIXED_POINT_A1 - a1, FIXED_POINT_A2 - a2],
    modules="numpy",
)
_xi = sp.lambdify((psi1, psi2, lam_bar), XI, modules="numpy")


class FixedPointError(ArithmeticError):
    """The Def. 1 fixed point was not found (relative residual above 1e-12)."""


def _solve_a(zeta_value, psi1_value, psi2_value, xi_value, start):
    """One root of the real fixed-point system in log coordinates, from ``start``."""

    def residual(log_a):
        u, v = np.exp(log_a)
        f1, f2 = _fp(u, v, zeta_value, psi1_value, psi2_value, xi_value)
        return [np.log((f1 + u) / u), np.log((f2 + v) / v)]

    sol = optimize.root(residual, start, method="hybr", tol=1e-15)
    u, v = np.exp(sol.x)
    f1, f2 = _fp(u, v, zeta_value, psi1_value, psi2_value, xi_value)
    ok = bool(np.isfinite(u) and np.isfinite(v)) and max(abs(f1) / u, abs(f2) / v) <= 1e-12
    return sol.x, ok


def solve_chi(zeta_value: float, psi1_value: float, psi2_value: float, lam_bar_value: float):
    """chi = nu1 nu2 at xi = i sqrt(psi1 psi2 lambda_bar), lambda_bar > 0 (Def. 1/2).

    Solves the real system a_j = FIXED_POINT_Aj(a1, a2) with a_j > 0 in log coordinates, by
    continuation from lambda_bar = 1 down to the requested value in factor-10 steps (as
    lambda_bar -> 0 one of a1, a2 diverges while chi = -a1 a2 stays finite, so a cold start
    from far away fails). Raises FixedPointError when a step does not converge.

    Example: at psi1 -> 0 there are no features, a1 -> 0 and chi -> 0:
    ``abs(solve_chi(1.0, 1e-9, 1.0, 1.0)) < 1e-8``.
    """
    path = [lam_bar_value]
    while path[-1] < 1.0:
        path.append(path[-1] * 10.0)
    log_a = None
    for lam_value in reversed(path):
        xi_value = float(_xi(psi1_value, psi2_value, lam_value))
        if log_a is None:
            log_a = np.log([psi1_value / (xi_value + 1.0), psi2_value / (xi_value + 1.0)])
        log_a, ok = _solve_a(zeta_value, psi1_value, psi2_value, xi_value, log_a)
        if not ok:
            raise FixedPointError(
                f"Mei-Montanari fixed point not found at psi1={psi1_value:g}, "
                f"psi2={psi2_value:g}, lambda_bar={lam_value:g}"
            )
    u, v = np.exp(log_a)
    return float(-u * v)


def bias_variance(zeta_value, psi1_value, psi2_value, lam_bar_value):
    """(B, V) of Thm 1 at lambda_bar = lambda / mu_star^2 (> 0) or the ridgeless limit (= 0)."""
    if lam_bar_value == 0:
        c = float(_chi_rl(zeta_value, min(psi1_value, psi2_value)))
        return (
            float(_bias_rl(c, zeta_value, psi1_value, psi2_value)),
            float(_variance_rl(c, zeta_value, psi1_value, psi2_value)),
        )
    c = solve_chi(zeta_value, psi1_value, psi2_value, lam_bar_value)
    return (
        float(_bias(c, zeta_value, psi1_value, psi2_value)),
        float(_variance(c, zeta_value, psi1_value, psi2_value)),
    )


def predicted_test_error(
    zeta_value, psi1_value, psi2_value, lam_bar_value, F1sq_value, Fstar_sq_value, tau2_value
) -> float:
    """F1^2 B + (tau^2 + Fstar^2) V + Fstar^2 (Thm 1; ridgeless Thm 3 at lambda_bar = 0).

    inf at the ridgeless interpolation threshold psi1 = psi2.
    """
    if lam_bar_value == 0 and psi1_value == psi2_value:
        return math.inf
    b, v = bias_variance(zeta_value, psi1_value, psi2_value, lam_bar_value)
    return F1sq_value * b + (tau2_value + Fstar_sq_value) * v + Fstar_sq_value
