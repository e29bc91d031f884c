"""training.train(grad_masks=...): weights outside the gradient mask are used but frozen at
their starting values (Zhou et al. 2019, "frozen at init"); checked against a reference that
never makes them parameters (W = W0 * (1 - g) + V * g with V trained by torch.optim per
member), and against plain training when the gradient mask is all ones."""

import pytest
import torch
import torch.nn.functional as F

from theorylab.sparse import datasets, training
from theorylab.sparse import masked_mlp as mm

SIZES = (6, 9, 7, 3)


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(90, SIZES[0], generator=g, dtype=torch.float64)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    return datasets.Split("toy", X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], (6,))


def _setup(P=3, steps=25):
    stack = mm.init_stack(SIZES, [torch.Generator().manual_seed(i) for i in range(P)])
    gen = torch.Generator().manual_seed(7)
    frozen = [(torch.rand(w.shape, generator=gen, dtype=torch.float64) < 0.6).to(w)
              for w in stack.weights]  # fmt: skip
    orders = datasets.data_order(60, 8, steps, torch.Generator().manual_seed(3))[None]
    return stack, frozen, orders


def _reference(stack, grad_mask, data, orders, config, p):
    """Member p alone: only V (the trainable part) is a parameter; W = W0 (1 - g) + V g."""
    W0 = [w[p].clone() for w in stack.weights]
    g = [m[p] for m in grad_mask]
    V = [w.clone().requires_grad_(True) for w in W0]
    b = [x[p].clone().requires_grad_(True) for x in stack.biases]
    if config.optimizer == "adam":
        opt = torch.optim.Adam(V + b, lr=config.lr)
    else:
        opt = torch.optim.SGD(V + b, lr=config.lr, momentum=config.momentum)
    for t in range(config.steps):
        h = data.X_train[orders[0, t]]
        for k in range(len(V)):
            h = F.linear(h, W0[k] * (1 - g[k]) + V[k] * g[k], b[k])
            if k < len(V) - 1:
                h = torch.relu(h)
        loss = F.cross_entropy(h, data.y_train[orders[0, t]])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [(W0[k] * (1 - g[k]) + V[k] * g[k]).detach() for k in range(len(V))]


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.02), ("sgd", 0.1)])
def test_frozen_weights_never_move_and_the_rest_trains_as_the_reference(optimizer, lr):
    data = _data()
    stack, grad_mask, orders = _setup()
    config = training.TrainConfig(optimizer=optimizer, lr=lr, steps=25, batch_size=8,
                                  eval_every=5)  # fmt: skip
    zeros = torch.zeros(stack.members, dtype=torch.long)
    result = training.train(stack, data, orders, zeros, zeros, config, grad_masks=grad_mask)
    for W0, W1, g in zip(stack.weights, result.final.weights, grad_mask, strict=True):
        assert torch.equal(W1[g == 0], W0[g == 0])  # bit-for-bit: Adam saw exact zeros
        assert bool((W1[g == 1] != W0[g == 1]).any())  # the trainable ones train
    for p in range(stack.members):
        ref = _reference(stack, grad_mask, data, orders, config, p)
        for a, w in zip(ref, result.final.weights, strict=True):
            torch.testing.assert_close(w[p], a, rtol=1e-9, atol=1e-12)


def test_all_ones_gradient_mask_is_plain_training():
    data = _data()
    stack, _frozen, orders = _setup()
    config = training.TrainConfig(steps=20, batch_size=8, eval_every=5, lr=0.02)
    zeros = torch.zeros(stack.members, dtype=torch.long)
    plain = training.train(stack, data, orders, zeros, zeros, config)
    ones = [torch.ones_like(w) for w in stack.weights]
    masked = training.train(stack, data, orders, zeros, zeros, config, grad_masks=ones)
    for a, b in zip(plain.final.weights, masked.final.weights, strict=True):
        assert torch.equal(a, b)
    assert torch.equal(plain.test_acc_early, masked.test_acc_early)
