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
    assert float(mm.RELU_MU0) == pytest.approx(mu0, rel=1e-9)
    assert float(mm.RELU_MU1) == pytest.approx(mu1, rel=1e-9)
    assert float(mm.RELU_MU_STAR_SQ) == pytest.approx(second - mu0**2 - mu1**2, rel=1e-9)


def test_fixed_point_residual_and_sign():
    chi = mm.solve_chi(float(mm.RELU_ZETA), 2.0, 3.0, 1e-3)
    assert chi < 0


def test_ridgeless_variance_below_threshold_is_least_squares():
    zeta = float(mm.RELU_ZETA)
    _b, v = mm.bias_variance(zeta, 1.0, 3.0, 0.0)
    assert v == pytest.approx(1.0 / (3.0 - 1.0), rel=1e-10)


def test_ridgeless_error_diverges_at_psi1_equal_psi2():
    zeta = float(mm.RELU_ZETA)
    near = mm.predicted_test_error(zeta, 2.999, 3.0, 0.0, 1.0, 0.0, 0.25)
    far = mm.predicted_test_error(zeta, 6.0, 3.0, 0.0, 1.0, 0.0, 0.25)
    assert near > 100 * far
    assert math.isinf(mm.predicted_test_error(zeta, 3.0, 3.0, 0.0, 1.0, 0.0, 0.25))


def test_large_ridge_returns_the_null_predictor():
    """lambda -> infinity: a_hat -> 0, the test error -> F1^2 + Fstar^2 (B -> 1, V -> 0)."""
    b, v = mm.bias_variance(float(mm.RELU_ZETA), 2.0, 3.0, 1e8)
    assert b == pytest.approx(1.0, abs=1e-3) and abs(v) < 1e-3
