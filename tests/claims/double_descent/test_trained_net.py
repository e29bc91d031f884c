"""trained_net: hand-written gradients against autograd, the flat bank's Adam against
torch.optim.Adam on the padded bank, and compare on hand-made measurements."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.claims.double_descent import trained_net as tn
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context

WIDTHS = [1, 3, 2, 5]


def _bank(seed=0, n=12, dim=4):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    Y = torch.sign(torch.randn(len(WIDTHS), n, generator=gen, dtype=torch.float64))
    return X, Y


def test_hand_written_gradient_equals_autograd():
    X, Y = _bank()
    U, dim = sum(WIDTHS), X.shape[1]
    owner = torch.repeat_interleave(torch.arange(len(WIDTHS)), torch.tensor(WIDTHS))
    theta = torch.randn(U * dim + 2 * U, generator=torch.Generator().manual_seed(1),
                        dtype=torch.float64)  # fmt: skip
    per_net, grad = tn._loss_and_gradient(theta, X, Y, owner, U, dim)
    t = theta.clone().requires_grad_()
    W1, b1, w2 = t[: U * dim].view(U, dim), t[U * dim : U * dim + U], t[U * dim + U :]
    hidden = torch.relu(X @ W1.T + b1)
    out = torch.stack([(hidden * w2)[:, owner == g].sum(dim=1) for g in range(len(WIDTHS))])
    loss = (out - Y).pow(2).mean(dim=1)
    loss.sum().backward()
    assert torch.allclose(per_net, loss.detach(), rtol=1e-13)
    assert torch.allclose(grad, t.grad, rtol=1e-12, atol=1e-14)


def test_flat_bank_follows_torch_adam_on_the_padded_bank(monkeypatch):
    """The trained losses equal those of a padded, masked bank trained by torch.optim.Adam
    (the construction this module replaced), to rounding, after 200 steps."""
    monkeypatch.setattr(tn, "NET_STEPS", 200)
    ctx = Context(seed=3)
    X, Y = _bank(seed=2, n=20, dim=5)
    Xte = torch.randn(30, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    yte = torch.sign(Xte[:, 0])
    train, test = tn._train_bank(ctx, X, Y, Xte, yte, WIDTHS)
    G, H, dim = len(WIDTHS), max(WIDTHS), 5
    gen = ctx.generator("net/init")
    W1 = torch.randn(G, H, dim, generator=gen, dtype=torch.float64) / math.sqrt(dim)
    w2 = torch.randn(G, H, generator=gen, dtype=torch.float64)
    w2 = w2 / torch.tensor(WIDTHS, dtype=torch.float64).sqrt()[:, None]
    mask = (torch.arange(H)[None, :] < torch.tensor(WIDTHS)[:, None]).double()
    ps = [W1.requires_grad_(), torch.zeros(G, H, dtype=torch.float64).requires_grad_(),
          w2.requires_grad_()]  # fmt: skip

    def forward(x):
        hidden = torch.relu(torch.einsum("ghd,nd->gnh", ps[0], x) + ps[1][:, None]) * mask[:, None]
        return torch.einsum("gh,gnh->gn", ps[2], hidden)

    opt = torch.optim.Adam(ps, lr=tn.NET_LR)
    for _ in range(200):
        opt.zero_grad()
        (forward(X) - Y).pow(2).mean(dim=1).sum().backward()
        opt.step()
    with torch.no_grad():
        want_train = (forward(X) - Y).pow(2).mean(dim=1)
        want_test = (forward(Xte) - yte).pow(2).mean(dim=1)
    assert train == pytest.approx(want_train.tolist(), rel=1e-7, abs=1e-12)
    assert test == pytest.approx(want_test.tolist(), rel=1e-7)


def test_divergence_is_inconclusive(monkeypatch):
    monkeypatch.setattr(tn, "NET_LR", 1e200)
    monkeypatch.setattr(tn, "NET_STEPS", 50)
    X, Y = _bank()
    with pytest.raises(Inconclusive, match="diverged"):
        tn._train_bank(Context(), X * 1e150, Y, X, Y[0], WIDTHS)


def measurement(peak=6, interpolating=8, noise_peak=2.0):
    widths = list(tn.NET_WIDTHS)
    train = np.tile([1.0 if w < interpolating else 1e-4 for w in widths], (2, 3, 1))
    test = np.ones((2, 3, len(widths)))
    test[0, :, widths.index(peak)] = noise_peak
    test[1, :, widths.index(peak)] = 1.5
    return tn.TrainedNetMeasurement(widths, 0.2, train, test)


def params():
    return make_params(get_claim("double_descent"), {})


def test_compare_peak_near_first_interpolating_width():
    s = {x.name: x for x in tn.compare(measurement(), params()).statements}
    assert s["trained_net_peak"].measured == pytest.approx(math.log2(6 / 8))
    assert s["trained_net_peak"].holds and s["trained_net_noise_raises_peak"].holds
    far = {x.name: x for x in tn.compare(measurement(peak=32), params()).statements}
    assert far["trained_net_peak"].holds is False
    quiet = {x.name: x for x in tn.compare(measurement(noise_peak=1.2), params()).statements}
    assert quiet["trained_net_noise_raises_peak"].holds is False


def test_no_interpolation_is_a_required_hypothesis_and_no_verdict():
    out = tn.compare(measurement(interpolating=1000), params())
    hyp = {h.name: h for h in out.hypotheses}["trained_net_interpolates"]
    assert hyp.required and hyp.met is False
    assert {s.name: s for s in out.statements}["trained_net_peak"].holds is None
