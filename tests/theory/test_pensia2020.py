"""Closed forms of theorylab.theory.pensia2020."""

import numpy as np
import pytest
import sympy as sp

from theorylab.theory import pensia2020 as p


def test_tolerance_solves_the_uniform_bound():
    values = {p.eps: sp.Rational(1, 20), p.c_l1: sp.Rational(3, 2), p.d: 4, p.d1: 4}
    e_value = p.TWO_LAYER_TOLERANCE.subs(values)
    bound = p.TWO_LAYER_UNIFORM_BOUND.subs(values).subs(p.e, e_value)
    assert sp.simplify(bound - values[p.eps]) == 0
    assert float(e_value) > 0
    assert p.two_layer_tolerance(0.05, 1.5, 4, 4) == pytest.approx(float(e_value), rel=1e-14)


def test_first_order_term_is_the_theory_formula():
    expected = p.e * (p.c_l1 * p.x_l1 + p.h_l1)
    assert sp.simplify(p.TWO_LAYER_FIRST_ORDER - expected) == 0
    assert sp.simplify(p.TWO_LAYER_BOUND - expected - p.e**2 * p.d1 * p.x_l1) == 0


def test_gadget_sup_error_against_a_dense_grid():
    xs = np.linspace(-1, 1, 2001)
    for a_plus, a_minus, w in [(0.31, 0.26, 0.3), (-0.2, -0.1, -0.15), (0.0, 0.5, 0.45)]:
        g = np.where(xs > 0, a_plus * xs, a_minus * xs)
        assert np.abs(g - w * xs).max() == pytest.approx(p.gadget_sup_error(a_plus, a_minus, w))


def test_propagation_step_numbers():
    assert p.propagation_step(0.1, 2.0, 0.5, 0.3) == pytest.approx(0.1 * 2.5 + 0.3)
