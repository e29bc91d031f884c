"""Masked random ReLU networks: the objects a strong lottery ticket is cut from.

A masked network of depth D has weight matrices M_1..M_D (M_i: (d_i, d_{i-1})), drawn i.i.d.
(U[-1, 1] by default, as in Malach et al. 2020 and Pensia et al. 2020; N(0, 1) as an option),
binary masks B_1..B_D of the same shapes, no biases, and computes

    F(x) = (B_D * M_D) relu( ... relu((B_1 * M_1) x) ... ),

relu after every layer but the last. Pruning only changes masks, never weights; the fraction
of weights *kept*, sum_i |B_i| / sum_i |M_i|, is ``keep_fraction``.

Example (an all-ones mask on one identity layer is the identity map):
    >>> import torch
    >>> net = MaskedNetwork([torch.eye(2, dtype=torch.float64)])
    >>> net(torch.tensor([[1.0, -2.0]], dtype=torch.float64)).tolist(), net.keep_fraction
    ([[1.0, -2.0]], 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..runtime import Context
from . import DISTRIBUTIONS


@dataclass
class MaskedNetwork:
    weights: list[torch.Tensor]
    masks: list[torch.Tensor] = field(default_factory=list)

    def __post_init__(self):
        if not self.masks:
            self.masks = [torch.ones_like(w, dtype=torch.bool) for w in self.weights]
        for w, b in zip(self.weights, self.masks, strict=True):
            if w.shape != b.shape:
                raise ValueError(f"mask shape {tuple(b.shape)} != weight shape {tuple(w.shape)}")

    @property
    def depth(self) -> int:
        """Number of weight layers D (the ReLU depth is D - 1)."""
        return len(self.weights)

    @property
    def widths(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def total_weights(self) -> int:
        return sum(w.numel() for w in self.weights)

    @property
    def kept_weights(self) -> int:
        return int(sum(int(b.sum()) for b in self.masks))

    @property
    def keep_fraction(self) -> float:
        return self.kept_weights / self.total_weights

    def effective(self, layer: int) -> torch.Tensor:
        """B_i * M_i: the weights the pruned network actually uses."""
        return self.weights[layer] * self.masks[layer]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """F(x) for a batch x: (N, d_0) -> (N, d_D)."""
        z = x
        for i in range(self.depth):
            z = z @ self.effective(i).T
            if i < self.depth - 1:
                z = torch.relu(z)
        return z


def random_weights(rows: int, cols: int, distribution: str, ctx: Context, stream: str):
    """An i.i.d. (rows, cols) matrix: U[-1, 1] ("uniform") or N(0, 1) ("normal")."""
    gen = ctx.generator(stream)
    if distribution == "uniform":
        w = torch.rand(rows, cols, generator=gen, dtype=torch.float64) * 2 - 1
    elif distribution == "normal":
        w = torch.randn(rows, cols, generator=gen, dtype=torch.float64)
    else:
        raise ValueError(f"unknown distribution {distribution!r} (known: {DISTRIBUTIONS})")
    return ctx.to(w)


def random_network(widths: list[int], distribution: str, ctx: Context, stream: str):
    """An unpruned MaskedNetwork with layer widths d_0, ..., d_D and i.i.d. weights."""
    weights = [
        random_weights(widths[i + 1], widths[i], distribution, ctx, f"{stream}/layer{i}")
        for i in range(len(widths) - 1)
    ]
    return MaskedNetwork(weights)
