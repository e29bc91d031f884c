"""Training loops shared by the claims: one batch sampler, one divergence rule.

- :func:`batch_weights`: uniform batches of B of n samples without replacement, as per-sample
  weights 1/B on the batch and 0 elsewhere, for any leading shape (networks, runs).
- :func:`check_divergence`: the one divergence rule: a non-finite loss, or one above
  ``divergence_factor`` times the initial loss, raises
  :class:`~theorylab.errors.Inconclusive` naming the step (never a verdict).
- :func:`sgd`: SGD / GD on G networks at once, each with its own step size eta_g and batch
  size B_g (B_g = n is full-batch GD), given a batched gradient function; stops once every
  network's full-batch loss is <= loss_tol.
- :func:`gradient_descent`: full-batch GD on a :class:`~theorylab.nets.NeuronBank`, with the
  trackers Du et al. (2019) reason about, recorded at every step for every network of the bank:

- residual u(k) - y and loss 1/2 ||u(k) - y||^2 (the sum loss of Du et al.);
- max_r ||w_r(k) - w_r(0)|| and ||W(k) - W(0)||_F / ||W(0)||_F;
- fraction of activation patterns 1{w_r . x_i > 0} that differ from initialisation;
- the flip certificate: for every flipped (i, r), |w_r(0).x_i| <= ||w_r(k) - w_r(0)|| ||x_i||
  (Cauchy-Schwarz: the pre-activation moved by at most that much), tracked as the largest
  ratio |w_r(0).x_i| / (||w_r(k) - w_r(0)|| ||x_i||) over flips; it must never exceed 1.

Example (batches of 2 of 4 samples: each row has two weights 1/2):
    >>> w = batch_weights(torch.Generator().manual_seed(0), (3,), 4, 2)
    >>> w.sum(dim=-1).tolist(), sorted(set(w.flatten().tolist()))
    ([1.0, 1.0, 1.0], [0.0, 0.5])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .errors import Inconclusive
from .nets.two_layer import NeuronBank
from .progress import progress


def batch_weights(
    generator: torch.Generator, prefix: tuple[int, ...], n: int, sizes, device=None
) -> torch.Tensor:
    """Weights (*prefix, n): 1/B on a uniform batch of B of the n samples (without
    replacement), 0 elsewhere, independently for every leading index.

    The batch is the B smallest ranks of i.i.d. uniforms drawn from ``generator`` (float64,
    on the CPU, then moved to ``device``); ``sizes`` is an int or a tensor broadcasting against
    the weights (one B per network: shape (G, 1)).
    """
    u = torch.rand(*prefix, n, generator=generator, dtype=torch.float64)
    if device is not None:
        u = u.to(device)
    sizes = torch.as_tensor(sizes, device=u.device)
    # the B smallest of n continuous uniforms: u <= its B-th order statistic (one sort; the
    # same set as rank(u) < B)
    kth = u.sort(dim=-1).values.gather(-1, (sizes - 1).expand(*u.shape[:-1], 1))
    return (u <= kth).to(torch.float64) / sizes.to(torch.float64)


def check_divergence(
    loss: torch.Tensor,
    loss0: torch.Tensor,
    step: int,
    divergence_factor: float,
    describe: Callable[[int], str],
    advice: str,
) -> None:
    """The divergence rule: a non-finite loss, or one above ``divergence_factor`` times the
    initial loss, raises Inconclusive naming the step, the first such network (``describe(g)``)
    and its losses; ``advice`` says what to change."""
    bad = ~torch.isfinite(loss) | (loss > divergence_factor * loss0)
    if bool(bad.any()):
        g = int(torch.nonzero(bad.reshape(-1))[0])
        raise Inconclusive(
            f"{describe(g)} diverged at step {step}: loss {float(loss.reshape(-1)[g]):.3g} from "
            f"{float(loss0.reshape(-1)[g]):.3g}; {advice}",
            step=step,
        )


@dataclass
class TrainResult:
    """Final parameters (G, P), full-batch mean loss per recorded step (R, G), the recorded
    steps, and the step at which each network first had loss <= loss_tol (-1: never)."""

    theta: torch.Tensor
    loss: torch.Tensor
    steps: list[int]
    reached_at: list[int]


# gradient(theta (G, P), weights (G, n) or (n,)) -> (gradient (G, P), residuals (G, n))
BatchGradient = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def sgd(
    gradient: BatchGradient,
    theta: torch.Tensor,
    n: int,
    etas: torch.Tensor,
    batch_sizes: list[int],
    max_steps: int,
    generator: torch.Generator,
    loss_tol: float = 0.0,
    record_every: int = 1,
    divergence_factor: float = 1e6,
    stop_when_reached: bool = True,
) -> TrainResult:
    """SGD on G networks at once: theta_g <- theta_g - eta_g grad(sum_i w_gi f_i)(theta_g).

    ``gradient(theta, weights)`` returns the gradient of the weighted loss sum_i w_i f_i and
    the residuals f(x_i) - y_i; the weights are 1/B_g on a batch of B_g samples drawn for
    every network and step by :func:`batch_weights` (B_g = n: full-batch GD on the mean loss,
    no draw). The full-batch mean loss (1/n) sum_i 1/2 r_i^2 is recorded every
    ``record_every`` steps; :func:`check_divergence` applies at every step. Stops early once
    every network's loss is <= ``loss_tol`` (if ``stop_when_reached``).
    """
    theta = theta.clone()
    G, device, dtype = theta.shape[0], theta.device, theta.dtype
    sizes = torch.tensor(batch_sizes, device=device)[:, None]
    full = torch.full((n,), 1.0 / n, dtype=dtype, device=device)
    all_full = all(b == n for b in batch_sizes)
    losses, steps = [], []
    reached = [-1] * G
    loss0 = None

    def describe(g: int) -> str:
        return f"training (network {g}: eta {float(etas[g]):.4g}, batch {batch_sizes[g]})"

    for k in range(max_steps + 1):
        if all_full:
            weights = full
        else:
            weights = batch_weights(generator, (G,), n, sizes, device).to(dtype)
        grad, residual = gradient(theta, weights)
        loss = 0.5 * residual.pow(2).mean(dim=-1)  # full-batch mean loss at this iterate
        if loss0 is None:
            loss0 = loss.clamp_min(1e-300)
        check_divergence(loss, loss0, k, divergence_factor, describe,
                         "reduce the step size or raise the batch size")  # fmt: skip
        for g in torch.nonzero(loss <= loss_tol).flatten().tolist():
            if reached[g] < 0:
                reached[g] = k
        done = stop_when_reached and min(reached) >= 0
        if k % record_every == 0 or k == max_steps or done:
            losses.append(loss)
            steps.append(k)
        if done or k == max_steps:
            break
        theta = theta - etas[:, None] * grad
    return TrainResult(theta, torch.stack(losses), steps, reached)


@dataclass
class GDTrace:
    """Per-step records, each (steps + 1, G) unless noted (G = networks in the bank)."""

    residual: torch.Tensor  # (steps + 1, n, G): u(k) - y
    loss: torch.Tensor
    max_distance: torch.Tensor
    relative_change: torch.Tensor
    flip_fraction: torch.Tensor
    certificate_ratio: torch.Tensor  # (G,): max over steps and flips; <= 1 by Cauchy-Schwarz
    gram_init: list[torch.Tensor]  # H(0) of each network, (n, n)


def gram_at_init(bank: NeuronBank, X: torch.Tensor, preact0: torch.Tensor) -> list[torch.Tensor]:
    """H(0)_ij = (1/m) x_i.x_j #{r : w_r.x_i > 0, w_r.x_j > 0} for each network."""
    active = (preact0 > 0).to(X.dtype)
    gram = X @ X.T
    out, start = [], 0
    for width in bank.widths.tolist():
        A = active[:, start : start + width]
        out.append(gram * (A @ A.T) / width)
        start += width
    return out


def gradient_descent(
    bank: NeuronBank,
    X: torch.Tensor,
    y: torch.Tensor,
    step_per_unit: torch.Tensor,
    steps: int,
    divergence_factor: float = 1e8,
) -> GDTrace:
    """Run ``steps`` full-batch GD steps on every network of ``bank`` at once.

    ``step_per_unit`` (M,) is each unit's step size (eta for "ntk"; eta * m for "mean_field",
    which keeps the function-space step at initialisation the same).
    """
    W0 = bank.W.clone()
    W = bank.W.clone()
    x_norm = X.norm(dim=1)
    G, n = bank.n_networks, X.shape[0]
    w0_norm_fro = bank.group_sum(W0.pow(2).sum(dim=1)).sqrt()
    units_per_net = bank.widths.to(X.dtype)

    residual = X.new_empty(steps + 1, n, G)
    max_distance = X.new_zeros(steps + 1, G)
    relative_change = X.new_zeros(steps + 1, G)
    flip_fraction = X.new_zeros(steps + 1, G)
    certificate = X.new_zeros(bank.W.shape[0])

    preact0, active0, u = bank.forward(X, W)
    gram_init = gram_at_init(bank, X, preact0)
    residual[0] = u - y[:, None]
    loss0 = 0.5 * residual[0].pow(2).sum(dim=0)
    # |w_r(0).x_i| / ||x_i||: the certificate compares it with ||w_r(k) - w_r(0)||.
    scaled_abs_preact0 = preact0.abs() / x_norm[:, None]
    active = active0
    with progress(steps, f"gradient descent ({G} networks)", unit="step") as bar:
        for k in range(1, steps + 1):
            W = W - step_per_unit[:, None] * bank.gradient(X, active, residual[k - 1])
            preact, active, u = bank.forward(X, W)
            residual[k] = u - y[:, None]
            loss = 0.5 * residual[k].pow(2).sum(dim=0)
            check_divergence(loss, loss0.clamp_min(1e-300), k, divergence_factor,
                             lambda g: f"gradient descent (network of width "
                             f"{int(bank.widths[g])})", "reduce the step size")  # fmt: skip
            distance = (W - W0).norm(dim=1)  # (M,)
            max_distance[k] = bank.group_max(distance)
            relative_change[k] = bank.group_sum(distance.pow(2)).sqrt() / w0_norm_fro
            flipped = (active - active0).abs_()  # 1.0 where the pattern differs from init
            flip_fraction[k] = bank.group_sum(flipped.sum(dim=0)) / (n * units_per_net)
            # Largest |w_r(0).x_i| / (||w_r(k)-w_r(0)|| ||x_i||) over flipped patterns; 0 if none
            # (0/0 for a unit that has not moved and has no flip).
            worst_flip = (flipped * scaled_abs_preact0).amax(dim=0)
            certificate = torch.maximum(
                certificate, torch.nan_to_num(worst_flip / distance, nan=0.0)
            )
            bar.update()
    loss = 0.5 * residual.pow(2).sum(dim=1)
    return GDTrace(
        residual=residual,
        loss=loss,
        max_distance=max_distance,
        relative_change=relative_change,
        flip_fraction=flip_fraction,
        certificate_ratio=bank.group_max(certificate),
        gram_init=gram_init,
    )
