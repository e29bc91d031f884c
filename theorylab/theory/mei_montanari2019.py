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

Numbers and symbols: the activation constants have the closed forms mu0 = 1/sqrt(2 pi),
mu1 = 1/2, E sigma(G)^2 = 1/2 (``RELU_*`` are these floats); the polynomials and the fixed point
are evaluated in numpy (:func:`bias_variance`), so a run never imports sympy. The sympy
expressions (``E0``, ``E1``, ``E2``, ``CHI_RIDGELESS``, ``FIXED_POINT_A1``, ..., and the exact
constants as integrals, ``symbolic().RELU_MU0`` ...) are built on first access; the proof check
and tests/theory/test_mei_montanari2019.py check that the numbers evaluate exactly them.

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
    >>> round(RELU_ZETA, 6)
    1.658897
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np

# Activation constants of ReLU (closed forms of their Gaussian integrals; ``symbolic()`` has
# the integrals themselves).
RELU_MU0 = 1 / math.sqrt(2 * math.pi)
RELU_MU1 = 0.5
RELU_SECOND_MOMENT = 0.5
RELU_MU_STAR_SQ = RELU_SECOND_MOMENT - RELU_MU0**2 - RELU_MU1**2
RELU_ZETA = RELU_MU1 / math.sqrt(RELU_MU_STAR_SQ)


def e_polynomials(chi, zeta, psi1, psi2):
    """(E0, E1, E2) of Def. 2 at chi (numpy arrays or floats)."""
    z2, z4, z6 = zeta**2, zeta**4, zeta**6
    c2, c3 = chi**2, chi**3
    c4, c5 = c2 * c2, c2 * c3
    pp = psi1 * psi2
    e0 = (
        -c5 * z6 + 3 * c4 * z4 + (pp - psi2 - psi1 + 1) * c3 * z6 - 2 * c3 * z4 - 3 * c3 * z2
        + (psi1 + psi2 - 3 * pp + 1) * c2 * z4 + 2 * c2 * z2 + c2 + 3 * pp * chi * z2 - pp
    )  # fmt: skip
    e1 = psi2 * c3 * z4 - psi2 * c2 * z2 + pp * chi * z2 - pp
    e2 = (
        c5 * z6 - 3 * c4 * z4 + (psi1 - 1) * c3 * z6 + 2 * c3 * z4 + 3 * c3 * z2
        + (-psi1 - 1) * c2 * z4 - 2 * c2 * z2 - c2
    )  # fmt: skip
    return e0, e1, e2


def chi_ridgeless(zeta, psi):
    """Thm 3: the negative root of zeta^2 chi^2 + (psi zeta^2 - zeta^2 - 1) chi - psi."""
    b = psi * zeta**2 - zeta**2 - 1
    return -(b + np.sqrt(b * b + 4 * psi * zeta**2)) / (2 * zeta**2)


def fixed_point_map(a1, a2, zeta, psi1, psi2, xi):
    """Def. 1 on the imaginary axis: (FIXED_POINT_A1, FIXED_POINT_A2) at (a1, a2)."""
    coupling = 1 + zeta**2 * a1 * a2
    return (
        psi1 / (xi + a2 + zeta**2 * a2 / coupling),
        psi2 / (xi + a1 + zeta**2 * a1 / coupling),
    )


def xi_of(psi1, psi2, lam_bar):
    """xi = sqrt(psi1 psi2 lambda_bar)."""
    return np.sqrt(psi1 * psi2 * lam_bar)


class FixedPointError(ArithmeticError):
    """The Def. 1 fixed point was not found (relative residual above 1e-12)."""


def _solve_a(zeta_value, psi1_value, psi2_value, xi_value, start):
    """One root of the real fixed-point system in log coordinates, from ``start``."""
    from scipy import optimize

    def residual(log_a):
        u, v = np.exp(log_a)
        f1, f2 = fixed_point_map(u, v, zeta_value, psi1_value, psi2_value, xi_value)
        return [np.log(f1 / u), np.log(f2 / v)]

    sol = optimize.root(residual, start, method="hybr", tol=1e-15)
    u, v = np.exp(sol.x)
    f1, f2 = fixed_point_map(u, v, zeta_value, psi1_value, psi2_value, xi_value)
    ok = bool(np.isfinite(u) and np.isfinite(v)) and max(abs(f1 - u) / u, abs(f2 - v) / v) <= 1e-12
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
        xi_value = float(xi_of(psi1_value, psi2_value, lam_value))
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
        c = float(chi_ridgeless(zeta_value, min(psi1_value, psi2_value)))
    else:
        c = solve_chi(zeta_value, psi1_value, psi2_value, lam_bar_value)
    e0, e1, e2 = e_polynomials(c, zeta_value, psi1_value, psi2_value)
    return float(e1 / e0), float(e2 / e0)


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


@functools.cache
def symbolic() -> SimpleNamespace:
    """The sympy expressions of this module (built once, on first use)."""
    import sympy as sp

    chi, zeta = sp.symbols("chi zeta", real=True)
    psi1, psi2, lam_bar, xi = sp.symbols("psi1 psi2 lambda_bar xi", positive=True)
    a1, a2 = sp.symbols("a1 a2", positive=True)
    psi = sp.Symbol("psi", positive=True)  # min(psi1, psi2)
    F1sq, Fstar_sq, tau2 = sp.symbols("F1sq Fstar_sq tau2", nonnegative=True)
    # Activation constants of ReLU, from their defining Gaussian integrals.
    g = sp.Symbol("g", real=True)
    phi = sp.exp(-(g**2) / 2) / sp.sqrt(2 * sp.pi)
    mu0 = sp.integrate(g * phi, (g, 0, sp.oo))
    mu1 = sp.integrate(g**2 * phi, (g, 0, sp.oo))
    second = sp.integrate(g**2 * phi, (g, 0, sp.oo))
    mu_star_sq = sp.simplify(second - mu0**2 - mu1**2)
    e0 = (
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
    e1 = (
        psi2 * chi**3 * zeta**4 - psi2 * chi**2 * zeta**2 + psi1 * psi2 * chi * zeta**2
        - psi1 * psi2
    )  # fmt: skip
    e2 = (
        chi**5 * zeta**6
        - 3 * chi**4 * zeta**4
        + (psi1 - 1) * chi**3 * zeta**6
        + 2 * chi**3 * zeta**4
        + 3 * chi**3 * zeta**2
        + (-psi1 - 1) * chi**2 * zeta**4
        - 2 * chi**2 * zeta**2
        - chi**2
    )
    # Thm 3 (ridgeless limit): chi at lambda -> 0 in closed form, psi = min(psi1, psi2). The
    # test error is Def. 2's B = E1/E0 and V = E2/E0 at this chi (continuity in lambda).
    b = psi * zeta**2 - zeta**2 - 1
    return SimpleNamespace(
        chi=chi, zeta=zeta, psi1=psi1, psi2=psi2, lam_bar=lam_bar, xi=xi, a1=a1, a2=a2, psi=psi,
        F1sq=F1sq, Fstar_sq=Fstar_sq, tau2=tau2,
        RELU_MU0=mu0, RELU_MU1=mu1, RELU_SECOND_MOMENT=second, RELU_MU_STAR_SQ=mu_star_sq,
        RELU_ZETA=mu1 / sp.sqrt(mu_star_sq),
        FIXED_POINT_A1=psi1 / (xi + a2 + zeta**2 * a2 / (1 + zeta**2 * a1 * a2)),
        FIXED_POINT_A2=psi2 / (xi + a1 + zeta**2 * a1 / (1 + zeta**2 * a1 * a2)),
        XI=sp.sqrt(psi1 * psi2 * lam_bar), CHI_FROM_A=-a1 * a2,
        E0=e0, E1=e1, E2=e2, BIAS=e1 / e0, VARIANCE=e2 / e0,
        TEST_ERROR=F1sq * e1 / e0 + (tau2 + Fstar_sq) * e2 / e0 + Fstar_sq,
        CHI_RIDGELESS=-(b + sp.sqrt(b**2 + 4 * psi * zeta**2)) / (2 * zeta**2),
        CHI_RIDGELESS_EQUATION=zeta**2 * chi**2 + b * chi - psi,
        E0_RIDGELESS=e0, E1_RIDGELESS=e1, E2_RIDGELESS=e2,
        BIAS_RIDGELESS=e1 / e0, VARIANCE_RIDGELESS=e2 / e0,
    )  # fmt: skip


SYMBOLIC_NAMES = (
    "chi", "zeta", "psi1", "psi2", "lam_bar", "xi", "a1", "a2", "psi", "F1sq", "Fstar_sq",
    "tau2", "FIXED_POINT_A1", "FIXED_POINT_A2", "XI", "CHI_FROM_A", "E0", "E1", "E2", "BIAS",
    "VARIANCE", "TEST_ERROR", "CHI_RIDGELESS", "CHI_RIDGELESS_EQUATION", "E0_RIDGELESS",
    "E1_RIDGELESS", "E2_RIDGELESS", "BIAS_RIDGELESS", "VARIANCE_RIDGELESS",
)  # fmt: skip


def __getattr__(name: str):
    """Symbols and expressions (``mei_montanari2019.E0``) from :func:`symbolic`."""
    if name not in SYMBOLIC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(symbolic(), name)
