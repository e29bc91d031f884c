"""The training module: the batch sampler, SGD/GD on batched networks, the divergence rule,
and gradient descent on a NeuronBank with its trackers."""

import math

import pytest
import torch

from theorylab.errors import Inconclusive
from theorylab.nets.two_layer import NeuronBank
from theorylab.train import batch_weights, check_divergence, gradient_descent, sgd

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


def test_batch_weights_are_uniform_batches_without_replacement():
    """Every B-subset of n is drawn with probability 1 / C(n, B) (chi-square-free check: each
    of the C(4, 2) = 6 subsets within 5 standard errors of 1/6 over 6000 draws), weights 1/B,
    and the same set as the B smallest ranks of the same uniforms."""
    gen = torch.Generator().manual_seed(0)
    w = batch_weights(gen, (6000,), 4, 2)
    assert torch.equal(w.sum(dim=-1), torch.ones(6000, dtype=torch.float64))
    counts = {}
    for row in (w > 0).tolist():
        counts[tuple(row)] = counts.get(tuple(row), 0) + 1
    assert len(counts) == 6
    se = (6000 * (1 / 6) * (5 / 6)) ** 0.5
    assert all(abs(c - 1000) < 5 * se for c in counts.values())
    u = torch.rand(6000, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(w > 0, u.argsort(-1).argsort(-1) < 2)
    sizes = torch.tensor([[1], [3]])
    per_row = batch_weights(gen, (2,), 5, sizes)
    assert per_row[0].tolist().count(1.0) == 1 and per_row[1].tolist().count(1 / 3) == 3


def test_sgd_full_batch_on_least_squares_reaches_the_solution():
    """GD on the mean loss (1/n) sum 1/2 (a_i . t - b_i)^2 converges to the least-squares
    solution (closed form by lstsq), and records when it got within loss_tol of the minimum."""
    gen = torch.Generator().manual_seed(2)
    A = torch.randn(8, 3, generator=gen)
    b = torch.randn(8, generator=gen)

    def gradient(theta, weights):
        residual = theta @ A.T - b
        return (weights * residual) @ A, residual

    result = sgd(gradient, torch.zeros(2, 3), 8, torch.tensor([0.2, 0.3]), [8, 8], 2000,
                 torch.Generator(), stop_when_reached=False)  # fmt: skip
    exact = torch.linalg.lstsq(A, b[:, None]).solution[:, 0]
    assert torch.allclose(result.theta, exact.expand(2, 3), atol=1e-10)


def test_divergence_rule_names_the_step_and_the_network():
    with pytest.raises(Inconclusive, match=r"net 1 diverged at step 7: loss inf") as info:
        check_divergence(torch.tensor([1.0, math.inf]), torch.ones(2), 7, 1e6,
                         lambda g: f"net {g}", "reduce eta")  # fmt: skip
    assert info.value.step == 7
    check_divergence(torch.tensor([1.0, 9.0]), torch.ones(2), 3, 10.0, str, "")  # no raise
    with pytest.raises(Inconclusive, match="diverged at step 2"):
        check_divergence(torch.tensor([11.0]), torch.ones(1), 2, 10.0, str, "")
