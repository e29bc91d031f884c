"""Finite-n risk of min-norm least squares: values, threshold, and a Monte-Carlo check."""

from __future__ import annotations

import math

import pytest
import torch

from theorylab.theory import wishart


def test_values_on_both_sides():
    assert wishart.risk(100, 50, 1.0, 1.0) == 50 / 49
    assert wishart.risk(100, 200, 1.0, 0.0) == 0.5
    assert wishart.risk(10, 12, 0.0, 1.0) == 10.0


def test_infinite_at_the_threshold():
    for p in (99, 100, 101):
        assert math.isinf(wishart.risk(100, p, 1.0, 1.0))


def test_inverse_wishart_trace_by_monte_carlo():
    """E tr((X^T X)^{-1}) = p/(n-p-1): 20000 designs at n = 12, p = 4 within 4 SE."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(20000, 12, 4, generator=gen, dtype=torch.float64)
    traces = torch.linalg.inv(X.transpose(1, 2) @ X).diagonal(dim1=1, dim2=2).sum(dim=1)
    mean = float(traces.mean())
    se = float(traces.std() / math.sqrt(traces.numel()))
    exact = wishart.risk(12, 4, 0.0, 1.0)
    print(f"mean {mean:.5f} +- {se:.2g}, exact {exact:.5f}")
    assert abs(mean - exact) <= 4 * se


def test_numbers_evaluate_the_derived_expressions():
    """risk() is plain floating point; it must equal the sympy expressions that
    proofs_checks/wishart_*.py derive from the chi-square density, on both sides."""
    import sympy as sp

    w = wishart.symbolic()
    under = sp.lambdify((w.n, w.p, w.r2, w.s2), w.RISK_UNDER, modules="mpmath")
    over = sp.lambdify((w.n, w.p, w.r2, w.s2), w.RISK_OVER, modules="mpmath")
    for n, p, r2, s2 in [(200, 20, 1.0, 0.25), (200, 196, 2.0, 0.5), (40, 44, 0.3, 3.0),
                         (200, 800, 1.0, 0.25), (12, 4, 0.0, 1.0)]:  # fmt: skip
        want = under(n, p, r2, s2) if p < n else over(n, p, r2, s2)
        assert wishart.risk(n, p, r2, s2) == pytest.approx(float(want), rel=1e-14)


def test_symbols_are_built_on_first_use_only():
    """Importing the module (and evaluating risk) does not import sympy."""
    import subprocess
    import sys

    code = (
        "import sys; from theorylab.theory import wishart, hastie2019, belkin2019, "
        "mei_montanari2019 as mm; wishart.risk(10, 20, 1, 1); hastie2019.ridge_risk(2, 0.1, 1, 1);"
        " belkin2019.full_test_error(10, 20, 1, 1, 1); mm.predicted_test_error(mm.RELU_ZETA, 2, 3,"
        " 0.01, 1, 0, 0.25); print('sympy' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
