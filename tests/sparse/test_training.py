"""training: one optimiser over the stacked population equals one optimiser per network
(torch.optim on separate tensors, the independent route), pruned weights stay zero, the
early-stopping bookkeeping, the rewind snapshot, divergence."""

import pytest
import torch
import torch.nn.functional as F

from theorylab.errors import Inconclusive
from theorylab.sparse import datasets, pruning, training
from theorylab.sparse import masked_mlp as mm

SIZES = (6, 9, 7, 3)


def _data(seed=0, n=90):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, SIZES[0], generator=g, dtype=torch.float64)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    return datasets.Split("toy", X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], (6,))


def _population(P=4):
    stack = mm.init_stack(SIZES, [torch.Generator().manual_seed(i) for i in range(P)])
    noisy = mm.MaskedStack([w + 0.1 for w in stack.weights], stack.biases, stack.masks)
    masks = pruning.prune(noisy, "random", "layerwise", [0.5, 0.5, 0.3],
                          torch.Generator().manual_seed(99))  # fmt: skip
    return pruning.reset_to(stack, masks)


def _reference(stack, data, orders, order_index, offset, config, p):
    """Member p alone: its own tensors and its own torch.optim optimiser."""
    W = [w[p].clone().requires_grad_(True) for w in stack.weights]
    b = [x[p].clone().requires_grad_(True) for x in stack.biases]
    M = [m[p] for m in stack.masks]
    if config.optimizer == "adam":
        opt = torch.optim.Adam(W + b, lr=config.lr)
    else:
        opt = torch.optim.SGD(W + b, lr=config.lr, momentum=config.momentum)
    for t in range(config.steps):
        idx = orders[order_index[p], offset[p] + t]
        h = data.X_train[idx]
        for k in range(len(W)):
            h = F.linear(h, W[k] * M[k], b[k])
            if k < len(W) - 1:
                h = torch.relu(h)
        loss = F.cross_entropy(h, data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [w.detach() for w in W], [x.detach() for x in b]


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.01), ("sgd", 0.05)])
def test_batched_training_equals_one_optimizer_per_network(optimizer, lr):
    data, stack = _data(), _population()
    orders = torch.stack([datasets.data_order(60, 8, 30, torch.Generator().manual_seed(s))
                          for s in range(2)])  # fmt: skip
    order_index = torch.tensor([0, 1, 0, 1])
    offset = torch.tensor([0, 0, 5, 3])
    config = training.TrainConfig(optimizer=optimizer, lr=lr, steps=20, batch_size=8,
                                  eval_every=5)  # fmt: skip
    result = training.train(stack, data, orders, order_index, offset, config)
    for p in range(4):
        W, b = _reference(stack, data, orders, order_index, offset, config, p)
        for k in range(3):
            assert torch.allclose(result.final.weights[k][p], W[k], rtol=0, atol=1e-10)
            assert torch.allclose(result.final.biases[k][p], b[k], rtol=0, atol=1e-10)
    for w, m in zip(result.final.weights, stack.masks, strict=True):
        assert float((w * (1 - m)).abs().max()) == 0.0  # pruned weights never move
    # the input stack is left unchanged
    assert torch.equal(stack.weights[0], _population().weights[0])


def test_early_stopping_bookkeeping_and_snapshot():
    data, stack = _data(1), _population(3)
    orders = datasets.data_order(60, 10, 60, torch.Generator().manual_seed(0))[None]
    idx, off = torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long)
    config = training.TrainConfig(lr=0.02, steps=60, batch_size=10, eval_every=7,
                                  snapshot_step=14)  # fmt: skip
    result = training.train(stack, data, orders, idx, off, config)
    assert result.eval_steps == [0, 7, 14, 21, 28, 35, 42, 49, 56, 60]
    best = result.val_loss.argmin(dim=0)
    assert result.early_stop_step.tolist() == [result.eval_steps[i] for i in best.tolist()]
    for p in range(3):
        # the kept weights are those of the early-stopping step: retrain that many steps
        until = int(result.early_stop_step[p])
        cfg = training.TrainConfig(lr=0.02, steps=until, batch_size=10)
        again = training.train(stack.select([p]), data, orders, idx[:1], off[:1], cfg)
        for a, b in zip(result.early.weights, again.final.weights, strict=True):
            assert torch.allclose(a[p], b[0], rtol=0, atol=1e-12)
        acc = training.evaluate(again.final, data.X_test, data.y_test)[1]
        assert float(result.test_acc_early[p]) == float(acc[0])
        loss, _acc = training.evaluate(result.final.select([p]), data.X_val, data.y_val)
        assert float(loss[0]) == pytest.approx(float(result.val_loss[-1, p]), rel=1e-12)
    short = training.train(stack, data, orders, idx, off,
                           training.TrainConfig(lr=0.02, steps=14, batch_size=10))  # fmt: skip
    for a, b in zip(result.snapshot.weights, short.final.weights, strict=True):
        assert torch.equal(a, b)


def test_divergence_is_inconclusive():
    data, stack = _data(2), _population(2)
    orders = datasets.data_order(60, 10, 20, torch.Generator().manual_seed(0))[None]
    idx = torch.zeros(2, dtype=torch.long)
    config = training.TrainConfig(optimizer="sgd", lr=1e200, steps=20, batch_size=10,
                                  eval_every=1)  # fmt: skip
    with pytest.raises(Inconclusive, match="not finite"):
        training.train(stack, data, orders, idx, idx, config)


def test_orders_too_short_are_refused():
    data, stack = _data(3), _population(1)
    orders = datasets.data_order(60, 10, 5, torch.Generator().manual_seed(0))[None]
    idx = torch.zeros(1, dtype=torch.long)
    with pytest.raises(ValueError, match="orders hold 5 steps"):
        training.train(stack, data, orders, idx, idx + 1, training.TrainConfig(steps=5))


def test_converged_and_early_stop_indices_against_a_loop():
    g = torch.Generator().manual_seed(5)
    losses = torch.rand(30, 7, generator=g, dtype=torch.float64) + 0.1
    losses[3, 2] = losses[9, 2] = 0.01  # tie at the minimum: the first index counts
    early, conv = training.early_stop_index(losses), training.converged_index(losses, 0.25)
    for p in range(7):
        col = losses[:, p].tolist()
        low = min(col)
        assert int(early[p]) == col.index(low)
        assert int(conv[p]) == next(i for i, v in enumerate(col) if v <= 1.25 * low)
    assert int(early[2]) == 3
