"""sharper_minima_generalize_worse (Wu, Zhu & E 2017, Fig. 3): solutions that fit the training
set perfectly but generalise worse, built by also fitting an "attack set" with wrong labels,
have larger top Hessian eigenvalues and smaller basins.

Per seed, K solutions of one two-layer ReLU MLP architecture are trained from their own
initialisations on the clean training set plus the first m_k points of an attack set whose
labels are replaced by wrong ones (label + U{1..9} mod 10); m_0 = 0 is the clean solution. All
S x K networks train at once (stacked weights, full-batch Adam on each network's own set,
each frozen once it fits its whole set with loss below the same target). The Hessian is that of
the mean cross-entropy over each solution's own training set (clean plus its attack points: the
objective it minimised, to 100% accuracy and the common loss target), its top-k eigenvalues by
Lanczos through the landscape toolkit; sharpness is their sum, the log basin volume
:func:`theorylab.theory.wu2017.log_volume` at the stated cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ... import curvature
from ...errors import Inconclusive
from ...landscape import ModelLoss
from ...runtime import Context
from .common import CLASSES, Split
from .nets import StackedMLP, per_sample_cross_entropy


@dataclass
class AttackMeasurement:
    sizes: list[int]
    test_accuracy: list[list[float]]  # (S, K)
    train_accuracy: list[list[float]]  # on the clean training set
    fitted: list[list[bool]]  # 100% on the whole own set (clean + attack) below the target
    steps: list[list[int]]
    top_eigenvalues: list[list[list[float]]]  # (S, K, k)
    correct_labels: bool


def train_stacked(net: StackedMLP, X, y, mask, lr: float, max_steps: int, loss_target: float):
    """Full-batch Adam for every network m on its own samples (mask (M, n) of 0/1), each frozen
    (weights restored after every later step) once all its samples are classified right and
    its mean loss is <= loss_target. Returns (fitted (M,) bool, steps (M,) int)."""
    M = mask.shape[0]
    counts = mask.sum(dim=1)
    opt = torch.optim.Adam(net.params, lr=lr)
    done = torch.zeros(M, dtype=torch.bool)
    steps = torch.full((M,), max_steps, dtype=torch.long)
    snapshot = [p.detach().clone() for p in net.params]
    for step in range(max_steps + 1):
        logits = net.logits(X)
        losses = per_sample_cross_entropy(logits, y)
        mean = (losses * mask).sum(dim=1) / counts
        with torch.no_grad():
            if not bool(torch.isfinite(mean).all()):
                raise Inconclusive("an attack-set network's loss is not finite", step=step)
            right = ((logits.argmax(2) == y) | (mask == 0)).all(dim=1)
            newly = right & (mean <= loss_target) & ~done
            steps[newly] = step
            done |= newly
            for param, snap in zip(net.params, snapshot, strict=True):
                snap[newly] = param[newly]
        if bool(done.all()) or step == max_steps:
            break
        opt.zero_grad()
        mean.sum().backward()
        opt.step()
        with torch.no_grad():
            for param, snap in zip(net.params, snapshot, strict=True):
                param[done] = snap[done]
    return done, steps


def attack_sets(p, ctx: Context, data: Split, seed_index: int):
    """(X_attack, y_attack) of the largest attack size for one seed: a seeded draw from the
    pool, labels shifted by U{1..9} mod 10 (wrong for sure) unless the control keeps them."""
    gen = ctx.generator(f"attack_set_{seed_index}")
    largest = max(p.attack_size_list)
    order = torch.randperm(data.X_pool.shape[0], generator=gen)[:largest]
    X, y = data.X_pool[order], data.y_pool[order]
    if p.control != "correct_attack_labels":
        shift = torch.randint(1, CLASSES, (largest,), generator=gen)
        y = (y + shift) % CLASSES
    return X, y


def measure(p, ctx: Context, data: Split) -> AttackMeasurement:
    sizes, S = p.attack_size_list, p.seeds
    K = len(sizes)
    X_train, y_train = data.X_train[: p.n_train], data.y_train[: p.n_train]
    n_train, largest = X_train.shape[0], max(sizes)
    Xs, ys, masks = [], [], []
    for s in range(S):
        X_attack, y_attack = attack_sets(p, ctx, data, s)
        X_all = torch.cat([X_train, X_attack])
        y_all = torch.cat([y_train, y_attack])
        for size in sizes:
            mask = torch.zeros(n_train + largest, dtype=torch.float64)
            mask[: n_train + size] = 1.0
            Xs.append(X_all)
            ys.append(y_all)
            masks.append(mask)
    X, y, mask = torch.stack(Xs), torch.stack(ys), torch.stack(masks)
    net = StackedMLP(S * K, X_train.shape[1], p.width, CLASSES, ctx.generator("attack_init"))
    fitted, steps = train_stacked(net, X, y, mask, p.attack_lr, p.attack_steps, p.loss_target)
    with torch.no_grad():
        test_logits = net.logits(data.X_test)
        train_logits = net.logits(X_train)
    test_acc = (test_logits.argmax(2) == data.y_test).double().mean(dim=1)
    train_acc = (train_logits.argmax(2) == y_train).double().mean(dim=1)
    tops = []
    for m in range(S * K):
        own = mask[m] > 0
        ml = ModelLoss(net.module(m), (X[m][own], y[m][own]), loss="cross_entropy")
        tops.append(curvature.hessian_eigenpairs(ml.loss, ml.theta0, k=p.top_k).values)

    def grid(values):
        return [list(values[s * K : (s + 1) * K]) for s in range(S)]

    return AttackMeasurement(
        sizes=list(sizes),
        test_accuracy=grid(test_acc.tolist()),
        train_accuracy=grid(train_acc.tolist()),
        fitted=grid([bool(v) for v in fitted]),
        steps=grid([int(v) for v in steps]),
        top_eigenvalues=grid(tops),
        correct_labels=p.control == "correct_attack_labels",
    )


def sharpness(top: list[float]) -> float:
    """Sum of the top-k eigenvalues (Wu, Zhu & E compare the top of the spectrum)."""
    return float(np.sum(top))
