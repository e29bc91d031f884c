"""Mei & Montanari (2019) random-features formulas: constants, fixed point, limits."""

from __future__ import annotations

import math

import pytest
from scipy import integrate

from theorylab.theory import mei_montanari2019 as mm


def test_relu_constants_match_gaussian_integrals():
    def gauss(f):
        return integrate.quad(lambda g: f(g) * math.exp(-g * g / 2) / math.sqrt(2 * math.pi),
                              -math.inf, math.inf)[0]  # fmt: skip

    mu0 = gauss(lambda g: max(g, 0.0))
    mu1 = gauss(lambda g: g * max(g, 0.0))
    second = gauss(lambda g: max(g, 0.0) ** 2)
    assert mm.RELU_MU0 == pytest.approx(mu0, rel=1e-9)
    assert mm.RELU_MU1 == pytest.approx(mu1, rel=1e-9)
    assert mm.RELU_MU_STAR_SQ == pytest.approx(second - mu0**2 - mu1**2, rel=1e-9)


def test_fixed_point_residual_and_sign():
    chi = mm.solve_chi(mm.RELU_ZETA, 2.0, 3.0, 1e-3)
    assert chi < 0


def test_ridgeless_variance_below_threshold_is_least_squares():
    zeta = mm.RELU_ZETA
    _b, v = mm.bias_variance(zeta, 1.0, 3.0, 0.0)
    assert v == pytest.approx(1.0 / (3.0 - 1.0), rel=1e-10)


def test_ridgeless_error_diverges_at_psi1_equal_psi2():
    zeta = mm.RELU_ZETA
    near = mm.predicted_test_error(zeta, 2.999, 3.0, 0.0, 1.0, 0.0, 0.25)
    far = mm.predicted_test_error(zeta, 6.0, 3.0, 0.0, 1.0, 0.0, 0.25)
    assert near > 100 * far
    assert math.isinf(mm.predicted_test_error(zeta, 3.0, 3.0, 0.0, 1.0, 0.0, 0.25))


def test_large_ridge_returns_the_null_predictor():
    """lambda -> infinity: a_hat -> 0, the test error -> F1^2 + Fstar^2 (B -> 1, V -> 0)."""
    b, v = mm.bias_variance(mm.RELU_ZETA, 2.0, 3.0, 1e8)
    assert b == pytest.approx(1.0, abs=1e-3) and abs(v) < 1e-3


def test_numbers_evaluate_the_symbolic_expressions():
    """The numpy evaluation (constants, E0/E1/E2, ridgeless chi, fixed-point map) equals the
    sympy expressions that proofs_checks/mei_montanari2019_ridgeless_limit.py checks."""
    import sympy as sp

    s = mm.symbolic()
    for name in ("RELU_MU0", "RELU_MU1", "RELU_SECOND_MOMENT", "RELU_MU_STAR_SQ", "RELU_ZETA"):
        assert getattr(mm, name) == pytest.approx(float(getattr(s, name)), rel=1e-15)
    args = (s.chi, s.zeta, s.psi1, s.psi2)
    polys = [sp.lambdify(args, e) for e in (s.E0, s.E1, s.E2)]
    chi_rl = sp.lambdify((s.zeta, s.psi), s.CHI_RIDGELESS)
    maps = sp.lambdify((s.a1, s.a2, s.zeta, s.psi1, s.psi2, s.xi),
                       [s.FIXED_POINT_A1, s.FIXED_POINT_A2])  # fmt: skip
    for chi, zeta, psi1, psi2 in [(-0.3, 1.66, 2.0, 3.0), (-1.7, 0.8, 0.5, 4.0),
                                  (-0.05, 2.5, 6.0, 1.5)]:  # fmt: skip
        got = mm.e_polynomials(chi, zeta, psi1, psi2)
        for g, f in zip(got, polys, strict=True):
            assert g == pytest.approx(f(chi, zeta, psi1, psi2), rel=1e-12, abs=1e-12)
        assert mm.chi_ridgeless(zeta, min(psi1, psi2)) == pytest.approx(
            chi_rl(zeta, min(psi1, psi2)), rel=1e-14
        )
        got = mm.fixed_point_map(0.4, 1.3, zeta, psi1, psi2, 0.2)
        assert got == pytest.approx(tuple(maps(0.4, 1.3, zeta, psi1, psi2, 0.2)), rel=1e-14)
