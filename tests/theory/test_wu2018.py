"""Tests of theorylab.theory.wu2018 and cohen2021: lambdified numbers against the sympy
expressions, the operator T against explicit enumeration of batches (exact tier)."""

import itertools
import math

import pytest
import sympy as sp
import torch

from theorylab.theory import cohen2021, wu2018


def test_batch_factor_endpoints_and_sympy_agreement():
    assert wu2018.batch_factor(10, 10) == 0.0  # GD
    assert wu2018.batch_factor(10, 1) == 1.0  # one sample per step
    for n, B in [(16, 2), (7, 3), (100, 33)]:
        exact = wu2018.BATCH_FACTOR.subs({wu2018.n: n, wu2018.B: B})
        assert wu2018.batch_factor(n, B) == pytest.approx(float(exact), rel=1e-15)


def test_bounds_and_critical_step():
    assert wu2018.sharpness_bound(0.4) == pytest.approx(5.0, rel=1e-15)
    assert wu2018.nonuniformity_bound(0.4, 16, 16) == math.inf
    assert wu2018.nonuniformity_bound(0.5, 16, 2) == pytest.approx(2 * math.sqrt(30 / 14))
    a, s, n, B = 3.0, 2.0, 16, 4
    eta_c = wu2018.critical_step(a, s, n, B)
    assert wu2018.one_d_factor(eta_c, a, s, n, B) == pytest.approx(1.0, abs=1e-14)
    assert (
        wu2018.one_d_factor(0.9 * eta_c, a, s, n, B)
        < 1
        < wu2018.one_d_factor(1.1 * eta_c, a, s, n, B)
    )


def _random_sample_hessians(n, d, seed):
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(n, d, d, generator=gen, dtype=torch.float64)
    return A @ A.transpose(1, 2)


@pytest.mark.parametrize("B", [1, 2, 3, 5])
def test_second_moment_operator_equals_batch_expectation(B):
    n, d, eta = 5, 2, 0.3
    Hs = _random_sample_hessians(n, d, seed=B)
    expected = torch.zeros(d * d, d * d, dtype=torch.float64)
    combos = list(itertools.combinations(range(n), B))
    for c in combos:
        step = torch.eye(d, dtype=torch.float64) - eta * Hs[list(c)].mean(0)
        expected += torch.kron(step, step) / len(combos)
    T = wu2018.second_moment_operator(Hs, eta, wu2018.batch_factor(n, B))
    torch.testing.assert_close(T, expected, rtol=0, atol=1e-12)
    if B < n:  # the wrong c_B (GD's 0) is detectably different
        wrong = wu2018.second_moment_operator(Hs, eta, 0.0)
        assert float((wrong - expected).abs().max()) > 1e-3


def test_operator_is_written_once_for_sympy_and_torch():
    Hs = _random_sample_hessians(3, 2, seed=0)
    T_torch = wu2018.second_moment_operator(Hs, 0.25, 0.5)
    T_sym = wu2018.second_moment_operator([sp.Matrix(h.tolist()) for h in Hs], 0.25, 0.5)
    torch.testing.assert_close(torch.tensor(T_sym.tolist(), dtype=torch.float64), T_torch,
                               rtol=0, atol=1e-12)  # fmt: skip


def test_one_dimensional_operator_is_the_one_d_factor():
    h = torch.tensor([1.0, 2.0, 6.0], dtype=torch.float64)
    a = float(h.mean())
    s = float(((h**2).mean() - h.mean() ** 2).sqrt())
    T = wu2018.second_moment_operator(h[:, None, None], 0.2, wu2018.batch_factor(3, 1))
    assert wu2018.spectral_radius(T) == pytest.approx(wu2018.one_d_factor(0.2, a, s, 3, 1))


def test_chebyshev_problem():
    X, y = cohen2021.chebyshev_problem(20)
    assert X.shape == (20, 1) and float(X[0, 0]) == -1.0 and float(X[-1, 0]) == 1.0
    x = X[:, 0]
    torch.testing.assert_close(y, 8 * x**4 - 8 * x**2 + 1, rtol=0, atol=1e-14)
    assert cohen2021.EDGE.subs(cohen2021.eta, sp.Rational(1, 10)) == 20
