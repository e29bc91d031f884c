"""Full-batch gradient descent on a :class:`~theorylab.nets.NeuronBank`, with the trackers
Du et al. (2019) reason about, recorded at every step for every network of the bank:

- residual u(k) - y and loss 1/2 ||u(k) - y||^2 (the sum loss of Du et al.);
- max_r ||w_r(k) - w_r(0)|| and ||W(k) - W(0)||_F / ||W(0)||_F;
- fraction of activation patterns 1{w_r . x_i > 0} that differ from initialisation;
- the flip certificate: for every flipped (i, r), |w_r(0).x_i| <= ||w_r(k) - w_r(0)|| ||x_i||
  (Cauchy-Schwarz: the pre-activation moved by at most that much), tracked as the largest
  ratio |w_r(0).x_i| / (||w_r(k) - w_r(0)|| ||x_i||) over flips; it must never exceed 1.

Divergence (non-finite loss, or loss above ``divergence_factor`` times the initial loss) stops
the run with :class:`~theorylab.errors.Inconclusive` naming the step and the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import Inconclusive
from .nets.two_layer import NeuronBank
from .progress import progress


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
            bad = ~torch.isfinite(loss) | (loss > divergence_factor * loss0.clamp_min(1e-300))
            if bool(bad.any()):
                g = int(torch.nonzero(bad)[0])
                raise Inconclusive(
                    f"gradient descent diverged at step {k} (network of width "
                    f"{int(bank.widths[g])}): loss {float(loss[g]):.3g} from "
                    f"{float(loss0[g]):.3g}; reduce the step size",
                    step=k,
                )
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
