"""Step: Hastie et al.'s isotropic ridge risk, its ridgeless limits and its optimal lambda.

Source: Hastie, Montanari, Rosset, Tibshirani 2019 (arXiv:1903.08560), Thm 5 and Cor 6
(isotropic features, n lambda convention):
R(lambda) = r2 lambda^2 m'(-lambda) + s2 gamma (m(-lambda) - lambda m'(-lambda)),
minimised at lambda* = s2 gamma / r2 with R(lambda*) = s2 gamma m(-lambda*).

What is checked: lambda -> 0+ of ``RIDGE_RISK`` equals ``RIDGELESS_UNDER`` at gamma = 1/2 and
``RIDGELESS_OVER`` at gamma = 2 (sympy limits, symbolic r2, s2); dR/dlambda = 0 at ``LAMBDA_OPT``
and d2R/dlambda2 > 0 there (40-digit evaluation at several (gamma, r2, s2)); the optimum value
equals ``RIDGE_RISK_AT_OPT``.
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import hastie2019

STEP = "ridge_optimum"
POINTS = [
    (sp.Rational(1, 2), 1, sp.Rational(1, 4)),
    (2, 1, sp.Rational(1, 4)),
    (sp.Rational(3, 2), 2, 3),
    (sp.Rational(1, 5), 3, 1),
]
DIGITS, TOLERANCE = 40, sp.Float("1e-30")


def check_ridge_optimum(
    ridge_risk=hastie2019.RIDGE_RISK,
    lambda_opt=hastie2019.LAMBDA_OPT,
    risk_at_opt=hastie2019.RIDGE_RISK_AT_OPT,
):
    """Verify the ridgeless limits of R(lambda), stationarity at lambda* and R(lambda*)."""
    g, lam, r2, s2 = hastie2019.gamma, hastie2019.lam, hastie2019.r2, hastie2019.s2
    for value, limit in ((sp.Rational(1, 2), hastie2019.RIDGELESS_UNDER),
                         (2, hastie2019.RIDGELESS_OVER)):  # fmt: skip
        got = sp.limit(ridge_risk.subs(g, value), lam, 0, "+")
        assert sp.simplify(got - limit.subs(g, value)) == 0, (
            f"{STEP}: lambda -> 0 of R at gamma = {value} is {sp.simplify(got)}"
        )
    first = sp.diff(ridge_risk, lam)
    second = sp.diff(ridge_risk, lam, 2)
    for value, r2v, s2v in POINTS:
        at = {g: value, r2: r2v, s2: s2v}
        lam_star = lambda_opt.subs(at)
        slope = sp.N(first.subs(at).subs(lam, lam_star), DIGITS)
        assert abs(slope) < TOLERANCE, (
            f"{STEP}: dR/dlambda = {slope} at lambda* = {lam_star} (gamma {value})"
        )
        curvature = sp.N(second.subs(at).subs(lam, lam_star), DIGITS)
        assert curvature > 0, f"{STEP}: d2R/dlambda2 = {curvature} <= 0 at lambda*"
        gap = sp.N((ridge_risk.subs(at).subs(lam, lam_star) - risk_at_opt.subs(at)), DIGITS)
        assert abs(gap) < TOLERANCE, f"{STEP}: R(lambda*) - s2 gamma m(-lambda*) = {gap}"
    print(f"verified: {STEP}: ridgeless limits, lambda* = s2 gamma/r2 is the minimiser")


def test_ridge_optimum():
    check_ridge_optimum()


def test_ridge_optimum_detects_mutation():
    wrong = hastie2019.s2 * hastie2019.gamma / (2 * hastie2019.r2)
    with pytest.raises(AssertionError, match=STEP):
        check_ridge_optimum(lambda_opt=wrong)
