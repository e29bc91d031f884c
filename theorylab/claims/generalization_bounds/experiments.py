"""The measurements of the generalization_bounds claim (imported inside ``simulate``: torch).

Four sub-experiments, each returning plain arrays for ``compare``:

- :func:`rademacher_sample`: Monte-Carlo over sign vectors of ||sum sigma_i x_i|| and its square
  on one training set;
- :func:`coverage`: independent training sets drawn i.i.d. (with replacement) from the pool, which
  is the population, so a predictor's risk is its error over the whole pool, exactly; per draw the
  Koltchinskii-Panchenko bound of a trained two-layer net, of random-features interpolants (true
  and random labels) and of one net fixed before the draws;
- :func:`sweeps`: two-layer nets trained to a fixed cross-entropy over a width ladder (true labels)
  and over label-noise fractions (one width), batched over seeds, widths and noise levels, with
  the norms of Neyshabur et al. (2019) and the test error.

Theory is called through module attributes (``rademacher.kp_margin_bound``,
``neyshabur2019.multiclass_margin``) so the claim's mutants reach it. Training is cached per
(parameters, seed, device, dtype) within a process: the power audit re-runs the claim under
mutants that change only what is computed after training.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from ...data import digits_images, mnist1d_arrays
from ...runtime import Context
from ...theory import neyshabur2019, rademacher
from . import training

CLASSES = 10
MNIST1D_SAMPLES = 4000
POOL_SIZES = {"digits": 1797, "mnist1d": MNIST1D_SAMPLES}
MOMENTUM = 0.9
_CACHE: dict = {}
_CACHE_SIZE = 4


def load_pool(dataset: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole data set as the population: inputs standardised with its own mean and standard
    deviation (a fixed map, the same for every draw), divided by sqrt(d) so E||x||^2 ~ 1, with a
    constant coordinate 1 appended (the hidden biases); labels 0..9."""
    if dataset == "digits":
        X, y = digits_images("generalization_bounds --dataset digits")
    else:
        X, y = mnist1d_arrays(MNIST1D_SAMPLES, purpose="--dataset mnist1d")
    mean, std = X.mean(0), X.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    Xs = (X - mean) / std / math.sqrt(X.shape[1])
    return torch.cat([Xs, torch.ones(len(y), 1, dtype=Xs.dtype)], 1), y


def parameter_count(width: int, d: int, classes: int) -> int:
    """Weights of x -> V relu(U x): U (h, d) (the constant input carries the biases), V (c, h)."""
    return width * (d + classes)


def cached(key, build):
    """Memoise ``build()`` under ``key`` (a few entries; tensors are returned as stored)."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = build()
    return _CACHE[key]


def run_key(p, ctx: Context, part: str):
    return (part, tuple(sorted(dataclasses.asdict(p).items())), ctx.seed, ctx.device, ctx.dtype)


# Rademacher complexity of the linear class -----------------------------------------------------
def rademacher_sample(X: torch.Tensor, sign_vectors: int, ctx: Context) -> dict:
    """||sum sigma_i x_i|| for ``sign_vectors`` draws of sigma, on points X (n, d)."""
    n = X.shape[0]
    gen = ctx.generator("rademacher/signs")
    signs = torch.randint(0, 2, (sign_vectors, n), generator=gen, dtype=torch.int64) * 2 - 1
    norms = rademacher.rademacher_sum_norms(X.to(torch.float64), signs)
    return {
        "n": n,
        "sq_norm_sum": float((X.to(torch.float64) ** 2).sum()),
        "norms": norms.numpy(),
    }


# Coverage of the margin bound over independent training sets ------------------------------------
def binary_labels(labels: torch.Tensor) -> torch.Tensor:
    """The binary task: digit >= 5 (class 1) against digit < 5 (class 0)."""
    return (labels >= 5).to(torch.long)


def coverage(p, pool_X: torch.Tensor, pool_y: torch.Tensor, ctx: Context) -> dict:
    """Per draw t = 1..draws: a sample of n points drawn with replacement from the pool, and
    for each model its population risk, training error, margin loss, scale and the bound.

    Models: ``two_layer`` (a width-``coverage_width`` ReLU net trained to the target loss on the
    binary task), ``random_features`` and ``random_labels`` (min-norm interpolants over fixed
    random ReLU features of the true binary labels and of a fixed random labelling of the pool),
    ``fixed_net`` (one net trained on an independent sample before the draws: a class of one
    function, R_S = 0, margin rho -> 0).
    """
    N, d = pool_X.shape
    n, T = p.train_size, p.draws
    ybin = binary_labels(pool_y)
    gen = ctx.generator("coverage/samples")
    samples = torch.randint(0, N, (T + 1, n), generator=gen)  # the last row trains fixed_net
    device, dtype = ctx.torch_device, ctx.torch_dtype
    Xd = pool_X.to(device=device, dtype=dtype)

    def train_nets():
        nets = training.init_nets(T + 1, (p.coverage_width,), d, 2, ctx.generator("coverage/init"),
                                  dtype, device)  # fmt: skip
        result = training.train(
            nets, Xd[samples.to(device)], ybin[samples].to(device), lr=p.lr, momentum=MOMENTUM,
            max_steps=p.max_steps, target_loss=p.target_loss,
        )  # fmt: skip
        return nets, result

    nets, result = cached(run_key(p, ctx, "coverage"), train_nets)
    delta_grid = p.delta / rademacher.grid_size()
    out: dict = {"draws": T, "n": n, "delta": p.delta, "steps": result.steps[:, 0].tolist()}
    with torch.no_grad():
        pool_logits = nets.logits(Xd)[:, :, 0, :]  # (T + 1, N, 2)
        pool_pred = pool_logits.argmax(-1).cpu()
        risk_all = (pool_pred != ybin[None, :]).to(torch.float64).mean(1)
        rows = []
        for t in range(T):
            idx = samples[t]
            logits = pool_logits[t, idx.to(device)].to(torch.float64).cpu()
            margins = neyshabur2019.multiclass_margin(logits, ybin[idx])
            U, _U0, V = nets.network(t, 0)
            v = (V[1] - V[0]).to(torch.float64).cpu()
            path_norm = float((v.abs() * U.to(torch.float64).cpu().norm(dim=1)).sum())
            S = float((pool_X[idx] ** 2).sum())
            rows.append(_margin_row(margins, path_norm, S, n, float(risk_all[t]), p,
                                    delta_grid, rademacher.two_layer_rademacher))  # fmt: skip
        out["two_layer"] = _columns(rows)

        # fixed_net: the net of the last row, evaluated on every draw's sample.
        fixed_rows = []
        for t in range(T):
            idx = samples[t]
            logits = pool_logits[T, idx.to(device)].to(torch.float64).cpu()
            margins = neyshabur2019.multiclass_margin(logits, ybin[idx])
            train_error = float((margins <= 0).to(torch.float64).mean())
            bound = rademacher.kp_margin_bound(train_error, 0.0, 1.0, n, p.delta,
                                               p.complexity_factor)  # fmt: skip
            fixed_rows.append(
                {"risk": float(risk_all[T]), "train_error": train_error,
                 "margin_loss": train_error, "scale": 0.0, "bound": bound}
            )  # fmt: skip
        out["fixed_net"] = _columns(fixed_rows)

    features = _random_features(pool_X, p.features, ctx)
    random_y = torch.randint(0, 2, (N,), generator=ctx.generator("coverage/random_labels"))
    for name, labels in (("random_features", ybin), ("random_labels", random_y)):
        out[name] = _columns(
            [_interpolant_row(features, labels, samples[t], p, delta_grid) for t in range(T)]
        )
    return out


def _margin_row(margins, scale, sq_norm_sum, n, risk, p, delta_grid, rademacher_of_class) -> dict:
    """The KP bound for f / rho at margin 1: rho = the margin percentile, class scale rounded up
    to the grid, delta split over the grid."""
    rho = float(neyshabur2019.margin_at_percentile(margins, p.margin_percentile))
    train_error = float((margins <= 0).to(torch.float64).mean())
    if p.complexity_factor == 0:
        # No complexity term: the bound of one function fixed in advance (rho -> 0, so the
        # margin loss is the training error, and no grid to pay for), applied to a fitted one.
        bound = rademacher.kp_margin_bound(train_error, 0.0, 1.0, n, p.delta, 0.0)
        return {"risk": risk, "train_error": train_error, "margin_loss": train_error,
                "scale": 0.0, "bound": bound, "rho": rho}  # fmt: skip
    if rho > 0:
        margin_loss = float((margins < rho).to(torch.float64).mean())
        complexity = rademacher_of_class(rademacher.grid_up(scale / rho), sq_norm_sum, n)
        bound = rademacher.kp_margin_bound(margin_loss, complexity, 1.0, n, delta_grid,
                                           p.complexity_factor)  # fmt: skip
    else:  # no positive margin at this percentile: only the trivial bound 1 remains
        margin_loss, bound = 1.0, math.inf
    return {"risk": risk, "train_error": train_error, "margin_loss": margin_loss,
            "scale": scale / rho if rho > 0 else math.inf, "bound": bound, "rho": rho}  # fmt: skip


def _columns(rows: list[dict]) -> dict:
    return {key: np.array([r[key] for r in rows], dtype=np.float64) for key in rows[0]}


def _random_features(pool_X: torch.Tensor, count: int, ctx: Context) -> torch.Tensor:
    """phi(x) = relu(W x) / sqrt(N), W ~ N(0, 2/d) fixed before any draw: (pool, N) float64."""
    d = pool_X.shape[1]
    W = torch.randn(count, d, generator=ctx.generator("coverage/features"), dtype=torch.float64)
    return torch.relu(pool_X @ (W * math.sqrt(2.0 / d)).T) / math.sqrt(count)


def _interpolant_row(features, labels, idx, p, delta_grid) -> dict:
    """Min-norm interpolant of +-1 targets over the sample's distinct points (duplicates carry
    the same label); the class is the linear class over the features, R_S <= ||v|| sqrt(S) / n."""
    n = idx.numel()
    unique = torch.unique(idx)
    Phi = features[unique]
    target = 2.0 * labels[unique].to(torch.float64) - 1.0
    K = Phi @ Phi.T
    alpha = torch.linalg.solve(K, target)
    v = Phi.T @ alpha
    pm = 2.0 * labels.to(torch.float64) - 1.0
    f_pool = features @ v
    margins = pm[idx] * f_pool[idx]
    risk = float((pm * f_pool <= 0).to(torch.float64).mean())
    S = float((features[idx] ** 2).sum())
    return _margin_row(margins, float(v.norm()), S, n, risk, p, delta_grid, _linear_upper)


def _linear_upper(B: float, sq_norm_sum: float, n: int) -> float:
    return rademacher.linear_bracket(sq_norm_sum, n, B)[1]


# Width and label-noise sweeps (10 classes) ------------------------------------------------------
def sweeps(p, pool_X: torch.Tensor, pool_y: torch.Tensor, ctx: Context) -> dict:
    """Width ladder with true labels and label-noise ladder at ``noise_width``, ``seeds`` each.

    Every seed draws its own train/test split; in the noise sweep a fraction eta of the training
    labels is replaced by labels drawn uniformly from the 10 classes (eta = 1: random labels).
    Nets train until their mean cross-entropy is <= target_loss (Neyshabur et al. stop at 0.01).
    """
    N, d = pool_X.shape
    n, seeds = p.train_size, p.seeds
    widths, levels = p.width_list, p.noise_list
    device, dtype = ctx.torch_device, ctx.torch_dtype
    order = torch.stack([torch.randperm(N, generator=ctx.generator(f"sweep/split/{s}"))
                         for s in range(seeds)])  # fmt: skip
    train, test = order[:, :n], order[:, n:]
    Xd = pool_X.to(device=device, dtype=dtype)

    # Noisy labels: group (level l, seed s) is row l * seeds + s.
    noisy = []
    for level in levels:
        for s in range(seeds):
            gen = ctx.generator(f"sweep/noise/{level:.6g}/{s}")
            replace = torch.rand(n, generator=gen) < level
            random = torch.randint(0, CLASSES, (n,), generator=gen)
            noisy.append(torch.where(replace, random, pool_y[train[s]]))
    noisy_y = torch.stack(noisy)
    noise_train = train.repeat(len(levels), 1)

    def train_all():
        width_nets = training.init_nets(seeds, widths, d, CLASSES, ctx.generator("sweep/init"),
                                        dtype, device)  # fmt: skip
        width_result = training.train(
            width_nets, Xd[train.to(device)], pool_y[train].to(device), lr=p.lr,
            momentum=MOMENTUM, max_steps=p.max_steps, target_loss=p.target_loss,
        )  # fmt: skip
        noise_nets = training.init_nets(
            len(levels) * seeds, (p.noise_width,), d, CLASSES,
            ctx.generator("sweep/noise_init"), dtype, device,
        )  # fmt: skip
        noise_result = training.train(
            noise_nets, Xd[noise_train.to(device)], noisy_y.to(device), lr=p.lr,
            momentum=MOMENTUM, max_steps=p.max_steps, target_loss=p.target_loss,
        )  # fmt: skip
        return width_nets, width_result, noise_nets, noise_result

    width_nets, width_result, noise_nets, noise_result = cached(run_key(p, ctx, "sweeps"),
                                                                train_all)  # fmt: skip
    width_rows = _evaluate(width_nets, pool_X, pool_y, train, test, pool_y[train], p)
    noise_rows = _evaluate(noise_nets, pool_X, pool_y, noise_train, test.repeat(len(levels), 1),
                           noisy_y, p)  # fmt: skip
    return {
        "widths": list(widths),
        "levels": list(levels),
        "seeds": seeds,
        "n": n,
        "d": d,
        "parameters": [parameter_count(w, d, CLASSES) for w in widths],
        "width": {k: v.reshape(seeds, len(widths)) for k, v in width_rows.items()},
        "width_steps": width_result.steps.numpy(),
        "noise": {k: v.reshape(len(levels), seeds) for k, v in noise_rows.items()},
        "noise_steps": noise_result.steps[:, 0].numpy().reshape(len(levels), seeds),
    }


def _evaluate(nets, pool_X, pool_y, train, test, train_labels, p) -> dict:
    """Per (group, width): Neyshabur et al.'s norms and capacity, margins, accuracies, test error
    (on the true labels of the group's test split), the VC bound with D = parameter count."""
    G, K = nets.groups, len(nets.widths)
    n, d = train.shape[1], pool_X.shape[1]
    keys = ("V_F", "dU_F", "X_F", "U0X_F", "product", "gamma", "margin_loss", "norm_term",
            "capacity", "train_accuracy", "positive_margin_fraction", "test_error", "vc_bound",
            "final_loss")  # fmt: skip
    rows = {key: np.zeros((G, K)) for key in keys}
    device, dtype = nets.U.device, nets.U.dtype
    with torch.no_grad():
        all_tr = nets.logits(pool_X[train].to(device=device, dtype=dtype)).to(torch.float64).cpu()
        all_pred_te = nets.logits(pool_X[test].to(device=device, dtype=dtype)).argmax(-1).cpu()
        for g in range(G):
            Xtr = pool_X[train[g]]
            ytr = train_labels[g]
            logits_tr, pred_te = all_tr[g], all_pred_te[g]
            for k, width in enumerate(nets.widths):
                U, U0, V = (t.to(torch.float64).cpu() for t in nets.network(g, k))
                margins = neyshabur2019.multiclass_margin(logits_tr[:, k], ytr)
                gamma = float(neyshabur2019.margin_at_percentile(margins, p.margin_percentile))
                terms = neyshabur2019.norm_terms(U, U0, V, Xtr)
                margin_loss = float((margins <= gamma).to(torch.float64).mean())
                train_acc = float((logits_tr[:, k].argmax(-1) == ytr).to(torch.float64).mean())
                values = {
                    "V_F": terms.V_F, "dU_F": terms.dU_F, "X_F": terms.X_F,
                    "U0X_F": terms.U0X_F, "product": terms.product, "gamma": gamma,
                    "margin_loss": margin_loss,
                    "norm_term": neyshabur2019.norm_term(terms, gamma, n, CLASSES),
                    "capacity": neyshabur2019.capacity_bound(margin_loss, terms, gamma, n,
                                                             CLASSES, width),
                    "train_accuracy": train_acc,
                    "positive_margin_fraction": float((margins > 0).to(torch.float64).mean()),
                    "test_error": float((pred_te[:, k] != pool_y[test[g]]).to(torch.float64)
                                        .mean()),
                    "vc_bound": rademacher.vc_bound(1 - train_acc, parameter_count(width, d,
                                                    CLASSES), n, p.delta),
                    "final_loss": float(torch.nn.functional.cross_entropy(logits_tr[:, k], ytr)),
                }  # fmt: skip
                for key, value in values.items():
                    rows[key][g, k] = value
    return rows
