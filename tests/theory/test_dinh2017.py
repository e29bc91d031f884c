"""Dinh et al.'s rescaling: the predicted Hessian S^{-1} H S^{-1} against a finite network
differentiated at both points, and the function left unchanged."""

import torch

from theorylab import curvature as cv
from theorylab.theory import dinh2017


def test_rescaled_hessian_matches_the_hessian_at_the_rescaled_point():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(9, 2, generator=gen, dtype=torch.float64)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    groups = ["first"] * 16 + ["second"] * 8 + ["bias2"] * 2
    theta = torch.randn(26, generator=gen, dtype=torch.float64)

    def loss(t):
        parts = torch.split(t, [12, 4, 8, 2])
        W1, b1, W2, b2 = (p.view(s) for p, s in zip(parts, shapes, strict=True))
        return 0.5 * ((torch.relu(X @ W1.T + b1) @ W2.T + b2 - y) ** 2).mean()

    a = 7.0
    scale = torch.tensor([dinh2017.parameter_scale(a, g) for g in groups], dtype=torch.float64)
    moved = theta * scale
    assert abs(float(loss(moved) - loss(theta))) <= 1e-13
    H = cv.dense_hessian(loss, theta, method="func")
    H2 = cv.dense_hessian(loss, moved, method="func")
    torch.testing.assert_close(dinh2017.rescaled_hessian(H, groups, a), H2, rtol=1e-10, atol=1e-12)
    assert dinh2017.block_scale(a, "second") == a**2
