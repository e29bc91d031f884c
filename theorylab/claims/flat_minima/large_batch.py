"""large_batch_sharper (Keskar, Mudigere, Nocedal, Smelyanskiy & Tang, ICLR 2017): at the same
step size, large-batch SGD ends at sharper minima (larger lambda_max and epsilon-sharpness)
with a larger generalisation gap than small-batch SGD.

Per seed one initialisation of a two-layer ReLU MLP is trained twice by plain SGD at the same
step size, with a small and with a large batch (batches drawn without replacement each epoch,
one seeded permutation per network and epoch), on the same training set, each run stopped at
the end of the first epoch whose training loss is below ``kb_loss_target`` (at most
``kb_epochs`` epochs). Comparing minima reached at different training losses would confound
sharpness with how far training went, so the statements are evaluated only when every run
reached the target (the report says so otherwise). Paired over seeds: log(lambda_max large /
small), log(phi large / small) and gap(large) - gap(small), gap = train accuracy - test
accuracy, each with its 95% t interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ... import curvature
from ...errors import Inconclusive
from ...landscape import ModelLoss, epsilon_sharpness
from ...runtime import Context
from .common import CLASSES, Split
from .nets import StackedMLP, per_sample_cross_entropy


@dataclass
class LargeBatchMeasurement:
    batches: list[int]  # [small, large]
    reached: list[list[bool]]  # (S, 2)
    epochs: list[list[int]]
    train_loss: list[list[float]]
    train_accuracy: list[list[float]]
    test_accuracy: list[list[float]]
    lambda_max: list[list[float]]
    epsilon_sharpness: list[list[float]]


def train_sgd(net: StackedMLP, X, y, batch: int, lr: float, epochs: int, target: float, gen):
    """Plain SGD for every network with its own batch order; stops each network after the first
    epoch ending with full training loss <= target. Returns (reached, epochs, loss)."""
    M, n = net.W1.shape[0], X.shape[0]
    done = torch.zeros(M, dtype=torch.bool)
    used = torch.full((M,), epochs, dtype=torch.long)
    final = torch.full((M,), float("nan"), dtype=torch.float64)
    for epoch in range(epochs + 1):
        with torch.no_grad():
            full = per_sample_cross_entropy(net.logits(X), y).mean(dim=1)
            if not bool(torch.isfinite(full[~done]).all()):
                raise Inconclusive("an SGD run's training loss is not finite", step=epoch)
            newly = (full <= target) & ~done
            used[newly], final[newly] = epoch, full[newly]
            done |= newly
        if bool(done.all()) or epoch == epochs:
            final[~done] = full[~done]
            break
        order = torch.stack([torch.randperm(n, generator=gen) for _ in range(M)])
        for lo in range(0, n - batch + 1, batch):  # the last partial batch is dropped
            idx = order[:, lo : lo + batch]
            logits = net.logits(X[idx])
            loss = per_sample_cross_entropy(logits, y[idx]).mean(dim=1)
            grads = torch.autograd.grad(loss.sum(), net.params)
            with torch.no_grad():
                live = (~done).to(torch.float64)
                for param, g in zip(net.params, grads, strict=True):
                    param -= lr * g * live.view(-1, *([1] * (g.dim() - 1)))
    return done, used, final


def measure(p, ctx: Context, data: Split) -> LargeBatchMeasurement:
    X, y = data.X_train[: p.n_train], data.y_train[: p.n_train]
    S = p.kb_seeds
    batches = [p.small_batch, p.large_batch]
    results = []
    init = ctx.generator("keskar_init")
    base = StackedMLP(S, X.shape[1], p.width, CLASSES, init)
    for j, batch in enumerate(batches):
        net = StackedMLP(S, X.shape[1], p.width, CLASSES, torch.Generator())
        with torch.no_grad():
            for mine, theirs in zip(net.params, base.params, strict=True):
                mine.copy_(theirs)  # the same initialisation for both batch sizes
        gen = ctx.generator(f"keskar_batches_{j}")
        reached, epochs, loss = train_sgd(
            net, X, y, batch, p.kb_lr, p.kb_epochs, p.kb_loss_target, gen
        )
        results.append((net, reached, epochs, loss))
    out = {
        k: [[None, None] for _ in range(S)]
        for k in ("reached", "epochs", "loss", "train", "test", "lam", "phi")
    }
    for j, (net, reached, epochs, loss) in enumerate(results):
        with torch.no_grad():
            train_acc = (net.logits(X).argmax(2) == y).double().mean(dim=1)
            test_acc = (net.logits(data.X_test).argmax(2) == data.y_test).double().mean(dim=1)
        for s in range(S):
            ml = ModelLoss(net.module(s), (X, y), loss="cross_entropy")
            lam = curvature.hessian_eigenpairs(ml.loss, ml.theta0, k=1).value
            phi = epsilon_sharpness(
                ml.loss, ml.theta0, p.epsilon, generator=ctx.generator(f"keskar_box_{j}_{s}")
            ).phi
            out["reached"][s][j] = bool(reached[s])
            out["epochs"][s][j] = int(epochs[s])
            out["loss"][s][j] = float(loss[s])
            out["train"][s][j] = float(train_acc[s])
            out["test"][s][j] = float(test_acc[s])
            out["lam"][s][j] = lam
            out["phi"][s][j] = phi
    return LargeBatchMeasurement(
        batches=batches,
        reached=out["reached"],
        epochs=out["epochs"],
        train_loss=out["loss"],
        train_accuracy=out["train"],
        test_accuracy=out["test"],
        lambda_max=out["lam"],
        epsilon_sharpness=out["phi"],
    )
