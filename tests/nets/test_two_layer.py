"""Two-layer nets: the batched NeuronBank against torch.func on the single-network model.

Dense-reference tier: the hand-derived gradient and the Gram matrix H(0) must match autograd
and the empirical NTK of the same model definition to 1e-12 in float64.
"""

import pytest
import torch
from torch.func import grad, jacrev

from theorylab.nets.two_layer import NeuronBank, output_scale, two_layer
from theorylab.train import gram_at_init

torch.set_default_dtype(torch.float64)


def make_bank(parameterization, widths=(3, 7, 5), n=6, d=4):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=gen)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=gen)
    weights = [torch.randn(m, d, generator=gen) for m in widths]
    signs = [torch.randint(0, 2, (m,), generator=gen) * 2.0 - 1 for m in widths]
    return NeuronBank.build(weights, signs, parameterization), weights, signs, X, y


@pytest.mark.parametrize("parameterization", ["ntk", "mean_field"])
def test_bank_forward_and_gradient_match_autograd(parameterization):
    bank, weights, signs, X, y = make_bank(parameterization)
    preact, active, u = bank.forward(X)
    residual = u - y[:, None]
    gradient = bank.gradient(X, active, residual)
    start = 0
    for g, (W, a) in enumerate(zip(weights, signs, strict=True)):
        scale = output_scale(W.shape[0], parameterization)
        assert torch.allclose(u[:, g], two_layer(W, a, X, scale), atol=1e-14)

        def loss(W_, a=a, scale=scale):
            return 0.5 * (two_layer(W_, a, X, scale) - y).pow(2).sum()

        expected = grad(loss)(W)
        assert torch.allclose(gradient[start : start + W.shape[0]], expected, atol=1e-12)
        start += W.shape[0]


def test_gram_at_init_is_the_empirical_ntk_of_the_same_model():
    bank, weights, signs, X, _ = make_bank("ntk")
    preact, _, _ = bank.forward(X)
    grams = gram_at_init(bank, X, preact)
    for G0, W, a in zip(grams, weights, signs, strict=True):
        scale = output_scale(W.shape[0], "ntk")
        J = jacrev(lambda W_, a=a, scale=scale: two_layer(W_, a, X, scale))(W).reshape(len(X), -1)
        assert torch.allclose(G0, J @ J.T, atol=1e-12)


def test_output_scales():
    assert output_scale(16, "ntk") == 0.25 and output_scale(16, "mean_field") == 1 / 16
    with pytest.raises(ValueError):
        output_scale(16, "other")


def test_group_reductions_against_per_network_loops():
    """group_max and group_sum reduce over each network's own units (widths 3, 7, 5)."""
    bank, *_ = make_bank("ntk")
    values = (torch.arange(15, dtype=torch.float64) - 6.0) ** 2
    bounds = [0, 3, 10, 15]
    pieces = [values[lo:hi] for lo, hi in zip(bounds, bounds[1:], strict=False)]
    assert bank.group_max(values).tolist() == [float(p.max()) for p in pieces]
    assert bank.group_sum(values).tolist() == [float(p.sum()) for p in pieces]
    assert bank.group_max(values).tolist() != [float(p.mean()) for p in pieces]
