"""Hastie et al. (2019) isotropic closed forms against direct integrals of the MP law."""

from __future__ import annotations

import math

import pytest
from scipy import integrate

from theorylab.theory import hastie2019


def _mp_integral(gamma, z, power):
    """integral dF(s) / (s - z)^power for the MP law of ratio gamma (atom 1 - 1/gamma at 0)."""
    lo, hi = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2

    def density(s):
        return math.sqrt(max((hi - s) * (s - lo), 0.0)) / (2 * math.pi * gamma * s)

    value, _ = integrate.quad(lambda s: density(s) / (s - z) ** power, lo, hi, epsabs=1e-13,
                              epsrel=1e-12, limit=200)  # fmt: skip
    atom = max(0.0, 1 - 1 / gamma)
    return value + atom / (0 - z) ** power


@pytest.mark.parametrize("gamma", [0.3, 0.8, 1.5, 4.0])
@pytest.mark.parametrize("lam", [1e-3, 0.1, 2.0])
def test_stieltjes_and_derivative_match_the_mp_integral(gamma, lam):
    assert hastie2019.stieltjes(gamma, -lam) == pytest.approx(_mp_integral(gamma, -lam, 1),
                                                              rel=1e-8)  # fmt: skip
    assert hastie2019.stieltjes_derivative(gamma, -lam) == pytest.approx(
        _mp_integral(gamma, -lam, 2), rel=1e-8
    )


def test_finite_difference_is_wrong_at_small_lambda_above_one():
    """Why the analytic derivative: at gamma > 1, m has a pole (1 - 1/gamma)/lambda, and a
    one-sided difference with step h ~ lambda misses m' by a large factor."""
    gamma, lam = 2.0, 1e-6
    h = lam / 2
    forward = (hastie2019.stieltjes(gamma, -lam + h) - hastie2019.stieltjes(gamma, -lam)) / h
    analytic = hastie2019.stieltjes_derivative(gamma, -lam)
    assert abs(forward / analytic - 1) > 0.5


def test_ridge_limits_and_optimum():
    for gamma in (0.5, 2.0):
        assert hastie2019.ridge_risk(gamma, 1e-10, 1.0, 0.25) == pytest.approx(
            hastie2019.ridgeless_risk(gamma, 1.0, 0.25), rel=1e-8
        )
    gamma, r2, s2 = 2.0, 1.0, 0.25
    lam_star = hastie2019.optimal_lambda(gamma, r2, s2)
    assert lam_star == 0.5
    best = hastie2019.ridge_risk(gamma, lam_star, r2, s2)
    assert best == pytest.approx(hastie2019.optimal_ridge_risk(gamma, r2, s2), rel=1e-12)
    for factor in (0.8, 0.95, 1.05, 1.25):
        assert hastie2019.ridge_risk(gamma, factor * lam_star, r2, s2) > best


def test_ridgeless_values():
    assert hastie2019.ridgeless_risk(0.25, 1.0, 3.0) == pytest.approx(1.0)
    assert math.isinf(hastie2019.ridgeless_risk(1.0, 1.0, 1.0))


def test_numbers_evaluate_the_symbolic_expressions():
    """The float/mpmath evaluation (m' = m (1 + gamma m) / S from the quadratic) equals the
    sympy expressions checked in proofs_checks/hastie2019_*.py, at 50 digits."""
    import mpmath
    import sympy as sp

    h = hastie2019.symbolic()
    dm = sp.lambdify((h.gamma, h.z), h.STIELTJES_DERIVATIVE, modules="mpmath")
    risk = sp.lambdify((h.gamma, h.lam, h.r2, h.s2), h.RIDGE_RISK, modules="mpmath")
    with mpmath.workdps(50):
        for gamma in (0.3, 0.5, 2.0, 4.0):
            for lam in (1e-6, 1e-3, 0.5, 10.0):
                want = float(dm(mpmath.mpf(gamma), mpmath.mpf(-lam)))
                assert hastie2019.stieltjes_derivative(gamma, -lam) == pytest.approx(
                    want, rel=1e-13
                )
                want = float(risk(mpmath.mpf(gamma), mpmath.mpf(lam), 1, mpmath.mpf(0.25)))
                assert hastie2019.ridge_risk(gamma, lam, 1.0, 0.25) == pytest.approx(
                    want, rel=1e-12
                )
    lam_opt = sp.lambdify((h.gamma, h.r2, h.s2), h.LAMBDA_OPT)
    assert hastie2019.optimal_lambda(2.0, 1.0, 0.25) == lam_opt(2.0, 1.0, 0.25)
    under = sp.lambdify((h.gamma, h.r2, h.s2), h.RIDGELESS_UNDER)
    over = sp.lambdify((h.gamma, h.r2, h.s2), h.RIDGELESS_OVER)
    assert hastie2019.ridgeless_risk(0.3, 1.0, 0.25) == pytest.approx(under(0.3, 1.0, 0.25))
    assert hastie2019.ridgeless_risk(3.0, 1.0, 0.25) == pytest.approx(over(3.0, 1.0, 0.25))
