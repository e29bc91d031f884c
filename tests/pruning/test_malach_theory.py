"""Closed forms of theorylab.theory.malach2020 against sympy and simulation."""

import numpy as np
import pytest
import sympy as sp

from theorylab.theory import malach2020 as m


def test_cdf_is_the_antiderivative_of_the_density():
    s = m.s
    assert sp.simplify(sp.diff(m.PRODUCT_CDF_ODD, s) - m.PRODUCT_DENSITY) == 0


def test_density_is_the_law_of_a_product_of_uniforms():
    """rho(s) = int_{|s|}^1 (1/u) (1/2) du for u ~ U[0,1], v ~ U[-1,1]."""
    u, t = sp.symbols("u t", positive=True)
    derived = sp.integrate(1 / (2 * u), (u, t, 1))
    assert sp.simplify(derived - m.PRODUCT_DENSITY.subs(m.s, t)) == 0


def test_match_probability_against_monte_carlo():
    rng = np.random.default_rng(0)
    prod = rng.uniform(0, 1, 400_000) * rng.uniform(-1, 1, 400_000)
    for w, tol in [(0.3, 0.05), (-0.02, 0.05), (0.97, 0.05)]:
        mc = np.mean(np.abs(prod - w) <= tol)
        assert float(m.match_probability(w, tol)) == pytest.approx(mc, abs=4e-3)


def test_success_formula_is_inclusion_exclusion():
    p, n = 0.1, 7
    sign_pool_empty_of_matches = (1 - p / 2) ** n
    both = 1 - 2 * sign_pool_empty_of_matches + (1 - p) ** n
    assert float(m.single_product_success(p, n)) == pytest.approx(both, rel=1e-14)


def test_candidates_needed_scales_like_one_over_eps():
    a = m.candidates_needed(0.01, 0.5, 0.9)
    b = m.candidates_needed(0.005, 0.5, 0.9)
    assert 1.9 < b / a < 2.1
    assert m.success_rate(a, 0.01, 0.5) >= 0.9 > m.success_rate(a - 1, 0.01, 0.5)
