"""supermask measurements: one dense training per seed gives (w_i, w_f); every criterion's mask
at every density, and the zeros / signs / foreign-network variants of the large_final ticket,
are retrained from w_i as ONE population; the untrained supermasks are evaluated directly; the
Bernoulli supermasks of every seed (on w_i and on its signed constant) learn in ONE
score-training call."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...masks import criteria, topk
from ...masks.score_training import ScoreConfig, train_scores
from ...sparse import datasets, masked_mlp, pruning
from ...sparse.training import TrainConfig, evaluate, train

# Retraining variants of the large_final ticket (Zhou et al. 2019, Secs. 3-4), per density:
# pruned weights frozen at w_i instead of zero; kept weights re-drawn with the signs of w_i; kept
# weights re-drawn with fresh signs; the mask from another seed's trained weights.
VARIANTS = ("frozen", "signs_kept", "random_signs", "foreign")
# Rows of the seed's table (Zhou et al. 2019, Table 1, MNIST FC), per seed.
TABLE_ROWS = ("mask_init", "mask_signed_constant", "learned_init", "learned_signed_constant",
              "trained")  # fmt: skip
SUPERMASK_CRITERION = "large_final_same_sign"  # the criterion of Zhou et al.'s supermasks


@dataclass
class Measurement:
    criteria: list[str]
    density: list[float]  # hidden-layer kept fractions (increasing)
    layer_density: list[list[float]]  # per density: the kept fraction of each layer
    acc: dict[str, np.ndarray]  # criterion -> (density, seeds) test accuracy after retraining
    variant_acc: dict[str, np.ndarray]  # VARIANTS -> (density, seeds)
    supermask_density: float
    table: dict[str, np.ndarray]  # TABLE_ROWS -> (seeds,) test accuracy
    learned_density: dict[str, np.ndarray]  # learned_init / learned_signed_constant -> (seeds,)
    supermask_curve: dict[str, np.ndarray]  # mask_init / mask_signed_constant -> (density, seeds)
    test_size: int
    classes: int


def layer_fractions(density: float, layers: int) -> list[float]:
    """Kept fraction per layer at hidden-layer density d: d for the hidden layers and
    d ** (log(1 - OUTPUT_RATE) / log(1 - HIDDEN_RATE)) for the output layer, the ratio IMP's
    per-round rates (20% hidden, 10% output; Frankle & Carbin 2019) reach after any number of
    rounds.

    >>> [round(f, 4) for f in layer_fractions(0.8 ** 3, 3)]
    [0.512, 0.512, 0.729]
    """
    exponent = math.log(1 - pruning.OUTPUT_RATE) / math.log(1 - pruning.HIDDEN_RATE)
    return [density] * (layers - 1) + [density**exponent]


def keep_signs(fresh: torch.Tensor, w_i: torch.Tensor) -> torch.Tensor:
    """Zhou et al.'s "reinit, signs kept": fresh magnitudes |v| with the signs of w_i."""
    return fresh.abs() * torch.sign(w_i)


def _labels(data: datasets.Split, control: str, ctx) -> datasets.Split:
    if control == "shuffled_labels":
        perm = torch.randperm(data.n_train, generator=ctx.generator("sm_shuffle_labels"))
        data.y_train = data.y_train[perm.to(data.y_train.device)]
    return data


def _orders(data, steps: int, seeds: int, ctx, stream: str) -> torch.Tensor:
    return torch.stack([
        datasets.data_order(data.n_train, 60, steps, ctx.generator(f"{stream}{s}"))
        for s in range(seeds)
    ])  # fmt: skip


def _masks(scores: list[torch.Tensor], density: float) -> list[torch.Tensor]:
    return topk.layerwise_masks(scores, layer_fractions(density, len(scores)))


def _with(stack: masked_mlp.MaskedStack, weights, masks) -> masked_mlp.MaskedStack:
    """Members of ``stack`` with new weights under new 0/1 masks (weights zeroed outside)."""
    masks = [m.to(w.dtype) for m, w in zip(masks, weights, strict=True)]
    return masked_mlp.MaskedStack([w * m for w, m in zip(weights, masks, strict=True)],
                                  [b.clone() for b in stack.biases], masks)  # fmt: skip


def _fresh(sizes, p, ctx) -> list[torch.Tensor]:
    """Fresh Glorot-normal draws per seed (the re-initialisation of the sign experiments)."""
    gens = [ctx.generator(f"sm_reinit{s}") for s in range(p.seeds)]
    return masked_mlp.init_stack(sizes, gens, dtype=ctx.torch_dtype,
                                 device=ctx.torch_device).weights  # fmt: skip


def retrain(p, data, ctx, init, final, orders):
    """Every (criterion, density, seed) ticket and the VARIANTS of the large_final ticket,
    trained from w_i as one population. Returns (acc, variant_acc), each (density, seeds)."""
    S, dens = p.seeds, p.density_grid
    w_i, w_f = init.weights, final.weights
    scores = criteria.scores(p.criteria_list, w_i, w_f, ctx.generator("sm_random_scores"))
    foreign_final = [torch.roll(w, -1, dims=0) for w in w_f]  # seed s gets seed s+1's w_f
    foreign_scores = criteria.scores(["large_final"], w_i, foreign_final)[0]
    fresh = _fresh(init.sizes, p, ctx)
    ones = [torch.ones_like(w) for w in w_i]
    stacks, index, grads = [], [], []
    for ci, name in enumerate(p.criteria_list):
        for di, d in enumerate(dens):
            masks = _masks(scores[ci], d)
            stacks.append(_with(init, w_i, masks))
            index.append(("criterion", name, di))
            grads.append(ones)
    ticket = p.criteria_list.index("large_final")
    for di, d in enumerate(dens):
        masks = _masks(scores[ticket], d)
        # pruned weights frozen at w_i: the whole init is used, only the kept weights train
        frozen = [m.to(w.dtype) for m, w in zip(masks, w_i, strict=True)]
        variants = {
            "frozen": (w_i, ones, frozen),
            "signs_kept": ([keep_signs(f, w) for f, w in zip(fresh, w_i, strict=True)], masks,
                           ones),
            "random_signs": (fresh, masks, ones),
            "foreign": (w_i, _masks(foreign_scores, d), ones),
        }  # fmt: skip
        for name in VARIANTS:
            weights, m, g = variants[name]
            stacks.append(_with(init, weights, m))
            index.append(("variant", name, di))
            grads.append(g)
    population = masked_mlp.cat(stacks)
    grad_masks = [torch.cat([g[k] for g in grads]) for k in range(init.layers)]
    seed_index = torch.arange(S).repeat(len(stacks))
    config = TrainConfig(steps=p.steps, lr=p.lr, eval_every=max(1, p.steps // 20))
    result = train(population, data, orders, seed_index, torch.zeros_like(seed_index), config,
                   grad_masks=grad_masks)  # fmt: skip
    test = result.test_acc_early.numpy().reshape(len(stacks), S)
    acc = {c: np.zeros((len(dens), S)) for c in p.criteria_list}
    variant_acc = {v: np.zeros((len(dens), S)) for v in VARIANTS}
    for (kind, name, di), row in zip(index, test, strict=True):
        (acc if kind == "criterion" else variant_acc)[name][di] = row
    return acc, variant_acc


def _untrained(init, weights, masks, data) -> np.ndarray:
    """(seeds,) test accuracy of weights * masks, never trained (biases are zero)."""
    return evaluate(_with(init, weights, masks), data.X_test, data.y_test)[1].cpu().numpy()


def supermasks(p, data, ctx, init, final):
    """Untrained mask * w_i and mask * signed constant at every density and at
    ``supermask_density`` (large_final_same_sign masks)."""
    w_i = init.weights
    scores = criteria.scores([SUPERMASK_CRITERION], w_i, final.weights)[0]
    constant = [criteria.signed_constant(w) for w in w_i]
    curve = {"mask_init": [], "mask_signed_constant": []}
    for d in p.density_grid:
        masks = _masks(scores, d)
        curve["mask_init"].append(_untrained(init, w_i, masks, data))
        curve["mask_signed_constant"].append(_untrained(init, constant, masks, data))
    masks = _masks(scores, p.supermask_density)
    table = {"mask_init": _untrained(init, w_i, masks, data),
             "mask_signed_constant": _untrained(init, constant, masks, data)}  # fmt: skip
    return table, {k: np.stack(v) for k, v in curve.items()}


def learned(p, data, ctx, init):
    """Bernoulli supermasks (Zhou et al. 2019, Sec. 5) on frozen w_i and on its signed
    constant, every seed in one call: (test accuracy, kept density) per weight kind."""
    constant = [criteria.signed_constant(w) for w in init.weights]
    stack = masked_mlp.cat([init, _with(init, constant, init.masks)])
    S = p.seeds
    orders = _orders(data, p.mask_steps, S, ctx, "sm_mask_order")
    config = ScoreConfig("bernoulli", steps=p.mask_steps, lr=p.mask_lr,
                         eval_every=max(1, p.mask_steps))  # fmt: skip
    gens = [ctx.generator(f"sm_scores{kind}_{s}") for kind in range(2) for s in range(S)]
    result = train_scores(stack, data, orders, torch.arange(S).repeat(2), config, gens,
                          sample_generator=ctx.generator("sm_bernoulli"))  # fmt: skip
    acc = result.test_acc.numpy().reshape(2, S)
    density = result.density.numpy().reshape(2, S)
    return ({"learned_init": acc[0], "learned_signed_constant": acc[1]},
            {"learned_init": density[0], "learned_signed_constant": density[1]})  # fmt: skip


def simulate(p, ctx) -> Measurement:
    data = _labels(datasets.load(p.dataset, ctx), p.control, ctx)
    sizes = masked_mlp.layer_sizes(data.d, p.width_factor)
    init = masked_mlp.init_stack(sizes, [ctx.generator(f"sm_init{s}") for s in range(p.seeds)],
                                 dtype=ctx.torch_dtype, device=ctx.torch_device)  # fmt: skip
    orders = _orders(data, p.steps, p.seeds, ctx, "sm_order")
    config = TrainConfig(steps=p.steps, lr=p.lr, eval_every=max(1, p.steps // 20))
    seeds = torch.arange(p.seeds)
    dense = train(init, data, orders, seeds, torch.zeros_like(seeds), config)
    acc, variant_acc = retrain(p, data, ctx, init, dense.final, orders)
    table, curve = supermasks(p, data, ctx, init, dense.final)
    learned_acc, learned_density = learned(p, data, ctx, init)
    table.update(learned_acc)
    table["trained"] = dense.test_acc_early.numpy()
    return Measurement(
        criteria=p.criteria_list, density=p.density_grid,
        layer_density=[layer_fractions(d, init.layers) for d in p.density_grid],
        acc=acc, variant_acc=variant_acc, supermask_density=p.supermask_density,
        table={k: table[k] for k in TABLE_ROWS}, learned_density=learned_density,
        supermask_curve=curve, test_size=int(data.y_test.numel()), classes=data.classes,
    )  # fmt: skip
