"""Gradient descent on a NeuronBank: trackers and divergence detection."""

import pytest
import torch

from theorylab.errors import Inconclusive
from theorylab.nets.two_layer import NeuronBank
from theorylab.train import gradient_descent

torch.set_default_dtype(torch.float64)


def setup(widths=(16, 64), n=10, d=5):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(n, d, generator=gen)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=gen)
    weights = [torch.randn(m, d, generator=gen) for m in widths]
    signs = [torch.randint(0, 2, (m,), generator=gen) * 2.0 - 1 for m in widths]
    return NeuronBank.build(weights, signs, "ntk"), X, y


def test_trace_shapes_and_monotone_loss_with_small_step():
    bank, X, y = setup()
    trace = gradient_descent(bank, X, y, torch.full((80,), 0.1), steps=50)
    assert trace.residual.shape == (51, 10, 2) and trace.loss.shape == (51, 2)
    assert bool((trace.loss[1:] <= trace.loss[:-1] + 1e-12).all())
    assert float(trace.max_distance[0].abs().max()) == 0.0
    # Cauchy-Schwarz certificate, exact: no flip without enough movement.
    assert float(trace.certificate_ratio.max()) <= 1.0


def test_flip_fraction_matches_direct_count():
    bank, X, y = setup(widths=(8,))
    W0 = bank.W.clone()
    trace = gradient_descent(bank, X, y, torch.full((8,), 0.5), steps=3)
    # Re-run three steps by hand with autograd to recount the flips.
    W = W0.clone().requires_grad_(True)
    for _ in range(3):
        u = (torch.relu(X @ W.T) * bank.signed_scale).sum(dim=1)
        (g,) = torch.autograd.grad(0.5 * (u - y).pow(2).sum(), W)
        W = (W - 0.5 * g).detach().requires_grad_(True)
    flips = ((X @ W.T > 0) != (X @ W0.T > 0)).double().mean()
    assert float(trace.flip_fraction[-1, 0]) == pytest.approx(float(flips), abs=1e-15)


def test_divergence_names_the_step():
    bank, X, y = setup()
    with pytest.raises(Inconclusive, match="diverged at step") as info:
        gradient_descent(bank, X, y, torch.full((80,), 1e4), steps=50)
    assert info.value.step is not None and 1 <= info.value.step <= 50
