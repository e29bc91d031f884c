"""Finite-n risk of min-norm least squares: values, threshold, and a Monte-Carlo check."""

from __future__ import annotations

import math

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
