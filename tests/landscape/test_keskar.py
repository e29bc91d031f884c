"""Keskar et al.'s epsilon-sharpness: the box, the normalisation, and L-BFGS-B's maximum
against brute force over the box's vertices (a convex quadratic is maximised at a vertex):
never above it, and a local maximum (KKT) where it falls short."""

import itertools

import pytest
import torch

from theorylab.landscape import epsilon_sharpness
from theorylab.landscape.keskar import phi


def test_box_scales_with_weights_and_normalisation():
    # f(t) = 1/2 sum a_i t_i^2 + 1 at x with |x_i| = (0, 1, 3), eps = 0.01: the box half-widths
    # are eps (|x_i| + 1) = (0.01, 0.02, 0.04), the max is at the vertex moving away from 0
    a = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([0.0, -1.0, 3.0], dtype=torch.float64)

    def f(t):
        return 0.5 * (a * t * t).sum() + 1.0

    r = epsilon_sharpness(f, x, 0.01, generator=torch.Generator().manual_seed(1))
    corner = x + torch.tensor([0.01, -0.02, 0.04], dtype=torch.float64)  # sign(x) moves out
    want = 100 * (float(f(corner)) - float(f(x))) / (1 + float(f(x)))
    assert r.phi == pytest.approx(want, rel=1e-12)
    assert phi(3.0, 1.0) == 100.0  # 100 (3 - 1) / (1 + 1)


def test_lbfgsb_reaches_the_best_vertex_of_a_coupled_quadratic():
    gen = torch.Generator().manual_seed(0)
    M = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    A = M @ M.T

    def f(t):
        return 0.5 * t @ A @ t

    x = torch.zeros(6, dtype=torch.float64)
    r = epsilon_sharpness(f, x, 0.1, generator=torch.Generator().manual_seed(2))
    best = max(
        float(f(0.1 * torch.tensor(s, dtype=torch.float64)))
        for s in itertools.product([-1.0, 1.0], repeat=6)
    )
    assert r.max_loss <= best * (1 + 1e-12)  # never above the true maximum
    # L-BFGS-B finds a local maximum (the global one is NP-hard in general): a vertex of the
    # box where the gradient A z points outwards in every coordinate (KKT conditions)
    assert float(f(r.z)) == pytest.approx(r.max_loss, rel=1e-12)
    assert torch.allclose(r.z.abs(), torch.full((6,), 0.1, dtype=torch.float64), atol=1e-12)
    assert bool(((A @ r.z) * r.z > 0).all())
    assert r.max_loss >= 0.25 * best
    # started at z = 0 (the minimum, gradient 0) L-BFGS-B cannot move: the random start matters
    assert r.from_zero == 0.0 and r.from_random == pytest.approx(r.phi)
