"""Iterative magnitude pruning (IMP) and its controls, for every member of a population at once.

IMP (Frankle & Carbin, ICLR 2019, Sec. 2): train from theta_0 with mask m (all ones at first);
in each layer l prune k_l = round(p_l n_l) of the n_l weights that remain, those with the
smallest |theta_final| (the authors' code: the cutoff is the k-th smallest remaining magnitude);
reset the survivors to theta_0 and repeat. LeNet-300-100's rates: p = 20% for hidden layers and
10% for the output layer, so after r rounds a hidden layer keeps 0.8^r of its weights (up to
the rounding of each round's count). Variants:

- global pruning (Frankle & Carbin, Sec. 4 for deeper nets): one cutoff over all layers, k =
  round(p N) of the N remaining weights;
- rewinding / late resetting (Frankle, Dziugaite, Roy & Carbin, ICML 2020): reset to theta_k, the
  weights after k training steps, instead of theta_0 (:func:`reset_to` with the snapshot);
- controls: the same mask with freshly drawn weights (:func:`random_reinit`), and a random mask
  with the same number of weights in every layer of every member (:func:`random_masks_like`).

A score criterion ranks the remaining weights (higher is kept): ``magnitude`` |theta_final|
(IMP), ``random`` (i.i.d. uniform scores: a "ticket" that is a random mask, the negative control)
and ``smallest`` (-|theta_final|: keeps the smallest magnitudes). Ties are broken by position
(stable sort), so kept counts are exact.

Example (one member, one layer of 5 weights, prune 2 of the 5 by magnitude):
    >>> import torch
    >>> w = [torch.tensor([[[0.3, -0.1, 2.0, 0.05, -1.0]]])]
    >>> m = [torch.ones_like(w[0])]
    >>> prune_layerwise(magnitude_scores(w), m, [0.4])[0].tolist()
    [[[1.0, 0.0, 1.0, 0.0, 1.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .masked_mlp import MaskedStack, init_stack

CRITERIA = ("magnitude", "random", "smallest")
MODES = ("layerwise", "global")
# Frankle & Carbin (2019), Fig. 2 / Appendix: LeNet-300-100 prunes hidden layers at 20% per
# round and the output layer at half that rate.
HIDDEN_RATE, OUTPUT_RATE = 0.2, 0.1


def prune_count(remaining: int | torch.Tensor, rate: float):
    """Weights to prune from ``remaining``: round(rate * remaining) (halves up), at most
    remaining - 1 so every layer keeps a weight.

    >>> prune_count(625, 0.2), prune_count(3, 0.2), prune_count(1, 0.9)
    (125, 1, 0)
    """
    if isinstance(remaining, torch.Tensor):
        k = torch.floor(rate * remaining.to(torch.float64) + 0.5).long()
        return torch.minimum(k, (remaining - 1).clamp_min(0))
    k = int(rate * remaining + 0.5)
    return min(k, max(remaining - 1, 0))


def remaining_after(n: int, rate: float, rounds: int) -> list[int]:
    """Weights left in a layer of n after 0, 1, ..., ``rounds`` rounds at ``rate``.

    >>> remaining_after(625, 0.2, 4)
    [625, 500, 400, 320, 256]
    """
    out = [int(n)]
    for _ in range(rounds):
        out.append(out[-1] - prune_count(out[-1], rate))
    return out


def layer_rates(layers: int, hidden_rate: float = HIDDEN_RATE,
                output_rate: float = OUTPUT_RATE) -> list[float]:  # fmt: skip
    """Per-layer pruning rates: ``hidden_rate`` for every layer but the last, ``output_rate``."""
    return [hidden_rate] * (layers - 1) + [output_rate]


def magnitude_scores(weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """|theta| per weight: IMP keeps the largest magnitudes."""
    return [w.abs() for w in weights]


def scores(criterion: str, weights: Sequence[torch.Tensor],
           generator: torch.Generator | None = None) -> list[torch.Tensor]:  # fmt: skip
    """Scores of a criterion (higher is kept); ``random`` draws U(0, 1) from ``generator``."""
    if criterion == "magnitude":
        return magnitude_scores(weights)
    if criterion == "smallest":
        return [-s for s in magnitude_scores(weights)]
    if criterion == "random":
        return [torch.rand(w.shape, generator=generator, dtype=torch.float64).to(w.device)
                for w in weights]  # fmt: skip
    raise ValueError(f"unknown criterion {criterion!r} (known: {', '.join(CRITERIA)})")


def keep_top(score: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """New mask keeping, in each member p, the ``keep[p]`` highest scores among the entries
    where ``mask`` is 1 (ties: the earlier position). ``score``, ``mask``: ``(P, ...)``."""
    P = score.shape[0]
    low = torch.tensor(-torch.inf, dtype=torch.float64, device=score.device)
    flat = torch.where(mask.reshape(P, -1) > 0, score.reshape(P, -1).to(torch.float64), low)
    order = torch.argsort(flat, dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(flat.shape[1], device=order.device).expand(P, -1))
    new = (rank < keep.to(rank.device)[:, None]).to(mask.dtype)
    return new.reshape(mask.shape) * mask


def prune_layerwise(score: Sequence[torch.Tensor], masks: Sequence[torch.Tensor],
                    rates: Sequence[float]) -> list[torch.Tensor]:  # fmt: skip
    """Per layer l, prune round(rates[l] * remaining) of the remaining weights with the lowest
    scores (each member separately)."""
    out = []
    for s, m, rate in zip(score, masks, rates, strict=True):
        remaining = m.sum(dim=(1, 2)).round().long()
        out.append(keep_top(s, m, remaining - prune_count(remaining, rate)))
    return out


def prune_global(score: Sequence[torch.Tensor], masks: Sequence[torch.Tensor],
                 rate: float) -> list[torch.Tensor]:  # fmt: skip
    """Prune round(rate * N) of each member's N remaining weights across all layers at once."""
    P = masks[0].shape[0]
    flat_s = torch.cat([s.reshape(P, -1) for s in score], dim=1)
    flat_m = torch.cat([m.reshape(P, -1) for m in masks], dim=1)
    remaining = flat_m.sum(dim=1).round().long()
    kept = keep_top(flat_s, flat_m, remaining - prune_count(remaining, rate))
    out, start = [], 0
    for m in masks:
        n = m[0].numel()
        out.append(kept[:, start : start + n].reshape(m.shape))
        start += n
    return out


def prune(final: MaskedStack, criterion: str, mode: str, rates: Sequence[float],
          generator: torch.Generator | None = None) -> list[torch.Tensor]:  # fmt: skip
    """One IMP round: the next masks from the trained weights ``final`` (its masks are the
    current ones). ``rates``: per layer (layerwise) or one rate, ``rates[0]`` (global)."""
    s = scores(criterion, final.weights, generator)
    if mode == "layerwise":
        return prune_layerwise(s, final.masks, rates)
    if mode == "global":
        return prune_global(s, final.masks, rates[0])
    raise ValueError(f"unknown pruning mode {mode!r} (known: {', '.join(MODES)})")


def reset_to(start: MaskedStack, masks: Sequence[torch.Tensor]) -> MaskedStack:
    """Survivors take their values in ``start`` (theta_0: reset; theta_k: rewind)."""
    return start.with_masks(masks)


def random_reinit(sizes: Sequence[int], masks: Sequence[torch.Tensor],
                  generators: Sequence[torch.Generator], live: Sequence[int] | None = None,
                  dtype=torch.float64, device=None) -> MaskedStack:  # fmt: skip
    """The same masks on freshly drawn Glorot-normal weights (one generator per member)."""
    fresh = init_stack(sizes, generators, dtype=dtype, device=device, live=live)
    return fresh.with_masks(masks)


def random_masks_like(masks: Sequence[torch.Tensor], structural: Sequence[torch.Tensor],
                      generator: torch.Generator) -> list[torch.Tensor]:  # fmt: skip
    """Uniformly random masks with the same kept count as ``masks`` in every layer of every
    member, drawn inside ``structural`` (the member's live block; all ones for a full net)."""
    out = []
    for m, s in zip(masks, structural, strict=True):
        u = torch.rand(m.shape, generator=generator, dtype=torch.float64).to(m.device)
        out.append(keep_top(u, s, m.sum(dim=(1, 2)).round().long()))
    return out


def densities(masks: Sequence[torch.Tensor], structural: Sequence[torch.Tensor]):
    """(per-layer densities ``(P, L)``, overall density ``(P,)``): kept weights over the
    weights of the member's own (structural) network, float64."""
    kept = torch.stack([m.sum(dim=(1, 2)) for m in masks], dim=1).to(torch.float64)
    total = torch.stack([s.sum(dim=(1, 2)) for s in structural], dim=1).to(torch.float64)
    return kept / total, kept.sum(dim=1) / total.sum(dim=1)


def movement(initial: MaskedStack, final: MaskedStack, keep: Sequence[torch.Tensor]):
    """Mean |theta_final - theta_initial| over the weights kept by ``keep`` and over the others
    (within the initial masks), per member and layer: two ``(P, L)`` float64 tensors."""
    kept_mean, pruned_mean = [], []
    for w0, w1, live, k in zip(initial.weights, final.weights, initial.masks, keep, strict=True):
        d = (w1 - w0).abs().to(torch.float64)
        kk = (k * live).to(torch.float64)
        pp = ((1 - k) * live).to(torch.float64)
        kept_mean.append((d * kk).sum(dim=(1, 2)) / kk.sum(dim=(1, 2)))
        pruned_mean.append((d * pp).sum(dim=(1, 2)) / pp.sum(dim=(1, 2)))
    return torch.stack(kept_mean, dim=1), torch.stack(pruned_mean, dim=1)
