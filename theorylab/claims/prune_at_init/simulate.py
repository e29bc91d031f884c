"""prune_at_init measurements: edge-popup over (width, k, seed) and SNIP / GraSP / magnitude /
random pruning over (sparsity, seed), each family trained as one population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...masks import saliency, topk
from ...masks.score_training import ScoreConfig, train_scores
from ...sparse import datasets, masked_mlp
from ...sparse.training import TrainConfig, train

METHODS = ("snip", "grasp", "magnitude", "random")
# GraSP's loss divides the logits by this temperature (Wang et al. 2020, the authors' code).
GRASP_TEMPERATURE = 200.0


@dataclass
class Measurement:
    k: list[float]
    widths: list[float]
    ep_acc: np.ndarray  # (widths, k, seeds) test accuracy of the edge-popup subnetwork
    sparsity: list[float]
    acc: dict[str, np.ndarray]  # method -> (sparsity, seeds) test accuracy at early stopping
    collapsed: dict[str, np.ndarray]  # method -> (sparsity, seeds) bool: some layer empty
    test_size: int
    classes: int


def _labels(data: datasets.Split, control: str, ctx) -> datasets.Split:
    if control != "shuffled_labels":
        return data
    perm = torch.randperm(data.n_train, generator=ctx.generator("shuffle_labels"))
    data.y_train = data.y_train[perm.to(data.y_train.device)]
    return data


def _orders(data, steps: int, seeds: int, ctx, stream: str, batch: int = 60) -> torch.Tensor:
    return torch.stack(
        [
            datasets.data_order(data.n_train, batch, steps, ctx.generator(f"{stream}{s}"))
            for s in range(seeds)
        ]  # fmt: skip
    )


def _frozen_weights(stack: masked_mlp.MaskedStack, init: str, ctx, members) -> None:
    """Kaiming-normal N(0, 2/fan_in) weights, or their signed constant sign(w) sqrt(2/fan_in)
    (Ramanujan et al. 2020, Sec. 4), on each member's live block."""
    for k, (W, live) in enumerate(zip(stack.weights, stack.masks, strict=True)):
        fan_in = live[:, 0, :].sum(dim=1).clamp_min(1)  # (P,) live inputs of the layer
        draws = torch.stack(
            [
                torch.randn(
                    W.shape[1:], generator=ctx.generator(f"ep_weights{m}_{k}"), dtype=torch.float64
                )
                for m in members
            ]  # fmt: skip
        ).to(W)
        std = (2.0 / fan_in).sqrt()[:, None, None].to(W)
        values = torch.sign(draws) * std if init == "signed_constant" else draws * std
        stack.weights[k] = values * live


def edge_popup(p, data, ctx) -> np.ndarray:
    """Test accuracy (widths, k, seeds): one population of every (width, k, seed)."""
    ks, widths = p.k_grid, p.width_grid
    sizes = masked_mlp.layer_sizes(data.d, max(widths))
    members, lives, fractions, seed_of = [], [], [], []
    for wi, w in enumerate(widths):
        live = masked_mlp.layer_sizes(data.d, w)
        for ki, k in enumerate(ks):
            for s in range(p.seeds):
                members.append((wi, ki, s))
                lives.append(live)
                fractions.append(k)
                seed_of.append(s)
    gens = [ctx.generator(f"ep_init{wi}_{s}") for wi, _ki, s in members]
    stacks = [
        masked_mlp.init_stack(
            sizes, [g], dtype=ctx.torch_dtype, device=ctx.torch_device, live=live
        )  # fmt: skip
        for g, live in zip(gens, lives, strict=True)
    ]
    stack = masked_mlp.cat(stacks)
    # same frozen weights for every k of a (width, seed): the k comparison is paired
    _frozen_weights(stack, p.init, ctx, [f"{wi}_{s}" for wi, _ki, s in members])
    orders = _orders(data, p.score_steps, p.seeds, ctx, "ep_order")
    config = ScoreConfig("edge_popup", steps=p.score_steps, lr=p.score_lr)
    score_gens = [ctx.generator(f"ep_scores{wi}_{s}") for wi, _ki, s in members]
    result = train_scores(stack, data, orders, torch.tensor(seed_of), config, score_gens,
                          keep_fraction=torch.tensor(fractions, dtype=torch.float64))  # fmt: skip
    acc = np.zeros((len(widths), len(ks), p.seeds))
    for (wi, ki, s), a in zip(members, result.test_acc.tolist(), strict=True):
        acc[wi, ki, s] = a
    return acc


def _balanced_batch(data, per_class: int, ctx):
    gen = ctx.generator("saliency_batch")
    y = data.y_train.cpu()
    rows = []
    for c in range(data.classes):
        idx = (y == c).nonzero().flatten()
        rows.append(idx[torch.randperm(idx.numel(), generator=gen)[:per_class]])
    rows = torch.cat(rows).to(data.X_train.device)
    return data.X_train[rows], data.y_train[rows]


def _loss(X, y, biases, temperature: float = 1.0):
    def loss(weights):
        h = X
        for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
            h = h @ W.T + b
            if k < len(weights) - 1:
                h = torch.relu(h)
        return F.cross_entropy(h / temperature, y)

    return loss


def _scores(method: str, stack, X, y, p, ctx) -> list[torch.Tensor]:
    """Per-layer scores (P, out, in) of every member; larger is kept."""
    if method == "random" or (p.control == "random_scores" and method in ("snip", "grasp")):
        gen = ctx.generator(f"random_scores_{method}")
        return [torch.rand(W.shape, generator=gen, dtype=torch.float64).to(W)
                for W in stack.weights]  # fmt: skip
    if method == "magnitude":
        return [W.abs() for W in stack.weights]
    out = []
    for m in range(stack.members):
        weights = [W[m] for W in stack.weights]
        biases = [b[m] for b in stack.biases]
        if method == "snip":
            out.append(saliency.snip(_loss(X, y, biases), weights))
        else:
            out.append(saliency.grasp(_loss(X, y, biases, GRASP_TEMPERATURE), weights))
    return [torch.stack([o[k] for o in out]) for k in range(stack.layers)]


def _masks(method: str, scores, density: float):
    if method == "random":  # every layer keeps the same fraction
        return topk.layerwise_masks(scores, density)
    return topk.global_masks(scores, density)


def at_init(p, data, ctx):
    """Test accuracy and layer collapse (sparsity, seeds) per method, trained as one
    population of every (method, sparsity, seed)."""
    sizes = masked_mlp.layer_sizes(data.d, p.width_factor)
    base = masked_mlp.init_stack(
        sizes, [ctx.generator(f"pai_init{s}") for s in range(p.seeds)],
        dtype=ctx.torch_dtype, device=ctx.torch_device,
    )  # fmt: skip
    X, y = _balanced_batch(data, p.batch_per_class, ctx)
    sparsities = p.sparsity_grid
    stacks, index = [], []
    collapsed = {m: np.zeros((len(sparsities), p.seeds), dtype=bool) for m in METHODS}
    for method in METHODS:
        scores = _scores(method, base, X, y, p, ctx)
        for si, sparsity in enumerate(sparsities):
            masks = [m.to(base.weights[0].dtype) for m in _masks(method, scores, 1 - sparsity)]
            collapsed[method][si] = topk.collapsed_layers([m > 0 for m in masks]).any(-1).numpy()
            stacks.append(base.with_masks(masks))
            index.append((method, si))
    population = masked_mlp.cat(stacks)
    orders = _orders(data, p.steps, p.seeds, ctx, "pai_order")
    seed_index = torch.arange(p.seeds).repeat(len(stacks))
    config = TrainConfig(steps=p.steps, eval_every=max(1, p.steps // 20))
    result = train(population, data, orders, seed_index, torch.zeros_like(seed_index), config)
    acc = {m: np.zeros((len(sparsities), p.seeds)) for m in METHODS}
    test = result.test_acc_early.numpy().reshape(len(stacks), p.seeds)
    for (method, si), row in zip(index, test, strict=True):
        acc[method][si] = row
    return acc, collapsed


def simulate(p, ctx) -> Measurement:
    data = _labels(datasets.load(p.dataset, ctx), p.control, ctx)
    ep = edge_popup(p, data, ctx)
    acc, collapsed = at_init(p, data, ctx)
    return Measurement(
        k=p.k_grid, widths=p.width_grid, ep_acc=ep, sparsity=p.sparsity_grid, acc=acc,
        collapsed=collapsed, test_size=int(data.y_test.numel()), classes=data.classes,
    )  # fmt: skip
