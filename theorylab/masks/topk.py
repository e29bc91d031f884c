"""Keep the largest scores: per-layer and global top-k masks, and edge-popup's top-k.

A layer's scores have shape ``(*batch, out, in)``; the mask keeps, for every batch index
separately, the ``round(keep_fraction * out * in)`` largest scores (at least one). Ties are
broken by position (the earlier flat index wins) so masks are deterministic.

Example (one layer, keep half):
    >>> import torch
    >>> layer_mask(torch.tensor([[0.1, 0.4], [0.3, 0.2]]), 0.5).int().tolist()
    [[0, 1], [1, 0]]
"""

from __future__ import annotations

import torch


def kept_count(size: int, keep_fraction: float) -> int:
    """Weights a layer of ``size`` keeps at ``keep_fraction`` (at least 1, at most size)."""
    if not 0.0 < keep_fraction <= 1.0:
        raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
    return max(1, min(size, round(keep_fraction * size)))


def _top_mask(flat: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the k largest entries along the last dimension (stable ties)."""
    order = torch.argsort(flat, dim=-1, descending=True, stable=True)
    mask = torch.zeros_like(flat, dtype=torch.bool)
    return mask.scatter(-1, order[..., :k], True)


def layer_mask(scores: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    """Keep the largest ``keep_fraction`` of one layer's scores, per batch index."""
    shape = scores.shape
    flat = scores.reshape(*shape[:-2], shape[-2] * shape[-1])
    return _top_mask(flat, kept_count(flat.shape[-1], keep_fraction)).reshape(shape)


def layerwise_masks(scores: list[torch.Tensor], keep_fraction: float | list[float]):
    """One mask per layer, each keeping its own fraction (a float applies to every layer)."""
    fractions = keep_fraction if isinstance(keep_fraction, list) else [keep_fraction] * len(scores)
    return [layer_mask(s, f) for s, f in zip(scores, fractions, strict=True)]


def global_masks(scores: list[torch.Tensor], keep_fraction: float) -> list[torch.Tensor]:
    """Keep the largest ``keep_fraction`` of all layers' scores pooled (SNIP, GraSP).

    A layer may end with no weight at all (layer collapse, Tanaka et al. NeurIPS 2020); callers
    report it with :func:`collapsed_layers`.
    """
    batch = scores[0].shape[:-2]
    flats = [s.reshape(*batch, -1) for s in scores]
    pooled = torch.cat(flats, dim=-1)
    mask = _top_mask(pooled, kept_count(pooled.shape[-1], keep_fraction))
    out, start = [], 0
    for s, f in zip(scores, flats, strict=True):
        out.append(mask[..., start : start + f.shape[-1]].reshape(s.shape))
        start += f.shape[-1]
    return out


def collapsed_layers(masks: list[torch.Tensor]) -> torch.Tensor:
    """(*batch, layers) booleans: True where a layer kept no weight."""
    return torch.stack([m.flatten(-2).sum(-1) == 0 for m in masks], dim=-1)


def densities(masks: list[torch.Tensor]) -> torch.Tensor:
    """(*batch, layers) fraction of each layer's weights kept."""
    return torch.stack([m.flatten(-2).double().mean(-1) for m in masks], dim=-1)


class _StraightThroughTopK(torch.autograd.Function):
    """Forward: the 0/1 mask of the largest |scores|; backward: the gradient passes to the
    scores unchanged (Ramanujan et al., CVPR 2020, Sec. 3: "edge-popup")."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, keep_fraction: float):
        return layer_mask(scores.abs(), keep_fraction).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def straight_through_topk(scores: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    """edge-popup's mask: top-k of |scores| per layer forward, identity gradient backward."""
    return _StraightThroughTopK.apply(scores, keep_fraction)
