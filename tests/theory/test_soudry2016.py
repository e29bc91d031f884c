"""theory/soudry2016 and theory/nguyen2017: the lambdified closed forms against direct
arithmetic, and the residual certificates against the nets at random (non-critical) points,
where they must hold as exact inequalities."""

import pytest
import sympy as sp
import torch

from theorylab.critical_points import loss_and_grad
from theorylab.nets import shallow
from theorylab.theory import nguyen2017, soudry2016

torch.set_default_dtype(torch.float64)


@pytest.mark.parametrize("N,d0,d1", [(60, 6, 10), (60, 6, 9), (7, 1, 7), (100, 7, 14)])
def test_regime_and_floor_match_arithmetic(N, d0, d1):
    assert soudry2016.in_regime(N, d0, d1) == (N <= d0 * d1)
    assert soudry2016.parameter_count(d0, d1) == d1 * (d0 + 1)
    assert soudry2016.below_parameter_floor(N, d0, d1) == (d1 * (d0 + 1) < N)


def test_expressions_are_the_stated_formulas():
    N, d0, d1 = soudry2016.N, soudry2016.d0, soudry2016.d1
    assert sp.simplify(soudry2016.PARAMETER_COUNT - (d0 * d1 + d1)) == 0
    assert soudry2016.REGIME == sp.Le(N, d0 * d1)
    assert nguyen2017.wide_enough(10, 10) and not nguyen2017.wide_enough(10, 9)
    assert nguyen2017.residual_bound(10, 1e-3, 0.5, 0.25) == pytest.approx(10 * 1e-3 / 0.125)


def test_soudry_certificate_holds_at_random_points():
    """||f - y|| <= N ||grad_W L|| / sigma_N(G) whenever rank G = N (N <= d0 d1)."""
    gen = torch.Generator().manual_seed(1)
    S, N, d0, d1, leak = 20, 8, 3, 4, 0.1
    X = torch.randn(S, N, d0, generator=gen)
    y = torch.randn(S, N, generator=gen)
    noise = 1 + 0.5 * torch.randn(S, N, d1, generator=gen)
    theta = torch.randn(S, d1 * (d0 + 1), generator=gen)
    _, g = loss_and_grad(lambda t: shallow.noisy_leaky_relu_loss(t, X, y, noise, leak), theta)
    G = shallow.khatri_rao_design(theta, X, noise, leak)
    sigma = torch.linalg.svdvals(G)[:, -1]
    residual = (shallow.noisy_leaky_relu_net(theta, X, noise, leak) - y).norm(dim=-1)
    ratios = [
        float(residual[s]) / soudry2016.residual_bound(N, float(g[s, : d1 * d0].norm()),
                                                       float(sigma[s]))
        for s in range(S)
    ]  # fmt: skip
    assert max(ratios) <= 1 + 1e-10
    assert max(ratios) > 1e-3  # not vacuous: the bound is within a few orders of magnitude


def test_nguyen_hein_certificate_holds_at_random_points():
    gen = torch.Generator().manual_seed(2)
    S, N, d0, widths = 10, 6, 3, (8, 3)
    lay = shallow.pyramidal_layout(d0, widths)
    X = torch.randn(S, N, d0, generator=gen)
    y = torch.randn(S, N, generator=gen)
    theta = torch.randn(S, lay.size, generator=gen) * 0.7
    _, g = loss_and_grad(lambda t: shallow.smooth_pyramidal_loss(t, X, y, widths, "tanh"), theta)
    feats, out = shallow.smooth_pyramidal_features(theta, X, widths, "tanh")
    W1, b1, W2, b2, W3, b3 = lay.split(theta)
    pre2 = feats[0] @ W2 + b2.unsqueeze(-2)
    slope = (1 - torch.tanh(pre2) ** 2).flatten(-2).amin(-1)
    sigma_f = torch.linalg.svdvals(feats[0])[:, -1]
    sigma_w3 = torch.linalg.svdvals(W3)[:, -1]
    g_w2 = g[:, lay.slice("W2")].norm(dim=-1)
    for s in range(S):
        bound = nguyen2017.residual_bound(
            N, float(g_w2[s]), float(sigma_f[s]), float(slope[s] * sigma_w3[s])
        )
        assert float((out[s] - y[s]).norm()) <= bound * (1 + 1e-10)
