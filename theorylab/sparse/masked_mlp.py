"""A population of masked ReLU MLPs stored stacked, evaluated with one batched matmul per layer.

Network p of the population (p = 0..P-1), with layer sizes (n_0, n_1, ..., n_L):

    h_0 = x,   h_l = relu((W_l^p * M_l^p) h_{l-1} + b_l^p)  (l < L),
    f^p(x) = (W_L^p * M_L^p) h_{L-1} + b_L^p,

where ``*`` is the elementwise product and M_l^p in {0, 1}^{n_l x n_{l-1}} is the mask of
layer l. Biases are never masked (Frankle & Carbin, ICLR 2019, prune weights only). All P
networks share the layer sizes; their weights are stacked as ``(P, n_l, n_{l-1})`` tensors, so a
forward pass is L batched matmuls (``torch.baddbmm``) whatever P is: seeds, controls and
densities become members of one population instead of a Python loop over small networks.

A narrower network (hidden widths m_l <= n_l) is a member whose structural mask keeps only
the top-left m_l x m_{l-1} block of each layer: the units outside it receive no input and send
nothing, so the member computes exactly the narrow network (its dead units' biases only feed
weights that are masked out). Its initialisation uses the narrow network's own fan-in and
fan-out.

Initialisation (Glorot normal, as in Frankle & Carbin 2019 for LeNet): W_l entries
~ N(0, 2 / (fan_in + fan_out)), biases 0; each member draws from its own generator
(:meth:`theorylab.runtime.Context.generator` stream), on the CPU in float64 and then cast.

Example (one member, 2-2-1 network with identity weights; relu(x) summed):
    >>> import torch
    >>> W = [torch.eye(2, dtype=torch.float64)[None], torch.ones(1, 1, 2, dtype=torch.float64)]
    >>> b = [torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)]
    >>> M = [torch.ones_like(w) for w in W]
    >>> stack = MaskedStack(W, b, M)
    >>> forward(stack, torch.tensor([[1.0, -2.0]], dtype=torch.float64)).tolist()
    [[[1.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

# LeNet-300-100's hidden widths (Frankle & Carbin 2019, Sec. 2: the fully connected MNIST net).
BASE_HIDDEN = (300, 100)


def layer_sizes(d_in: int, width_factor: float, classes: int = 10,
                hidden: Sequence[int] = BASE_HIDDEN) -> tuple[int, ...]:  # fmt: skip
    """(d_in, round(300 f), round(100 f), classes): LeNet-300-100 scaled by one factor.

    >>> layer_sizes(64, 0.5)
    (64, 150, 50, 10)
    """
    return (int(d_in), *[max(1, round(h * width_factor)) for h in hidden], int(classes))


@dataclass
class MaskedStack:
    """P networks: ``weights[k]`` and ``masks[k]`` are ``(P, n_{k+1}, n_k)``, ``biases[k]`` is
    ``(P, n_{k+1})``. Masks hold 0/1 in the weights' dtype; stored weights are kept zero where
    the mask is zero (training multiplies by the mask, so pruned entries never change)."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    masks: list[torch.Tensor]

    @property
    def members(self) -> int:
        return self.weights[0].shape[0]

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[2], *[w.shape[1] for w in self.weights])

    @property
    def layers(self) -> int:
        return len(self.weights)

    def clone(self) -> MaskedStack:
        return MaskedStack([w.clone() for w in self.weights], [b.clone() for b in self.biases],
                           [m.clone() for m in self.masks])  # fmt: skip

    def select(self, index) -> MaskedStack:
        """The members ``index`` (a slice, a list or a LongTensor of member indices)."""
        return MaskedStack([w[index] for w in self.weights], [b[index] for b in self.biases],
                           [m[index] for m in self.masks])  # fmt: skip

    def with_masks(self, masks: Sequence[torch.Tensor]) -> MaskedStack:
        """The same weights under new masks (weights zeroed where the new mask is 0)."""
        masks = [m.to(w.dtype) for m, w in zip(masks, self.weights, strict=True)]
        return MaskedStack([w * m for w, m in zip(self.weights, masks, strict=True)],
                           [b.clone() for b in self.biases], masks)  # fmt: skip

    def kept(self) -> torch.Tensor:
        """(P, L) number of weights each member keeps in each layer."""
        return torch.stack([m.sum(dim=(1, 2)).round().long() for m in self.masks], dim=1)

    def to(self, dtype: torch.dtype | None = None, device=None) -> MaskedStack:
        def conv(t):
            return t.to(dtype=dtype, device=device)

        return MaskedStack([conv(w) for w in self.weights], [conv(b) for b in self.biases],
                           [conv(m) for m in self.masks])  # fmt: skip


def cat(stacks: Sequence[MaskedStack]) -> MaskedStack:
    """Concatenate populations of equal layer sizes along the member axis."""
    layers = range(stacks[0].layers)
    return MaskedStack(
        [torch.cat([s.weights[k] for s in stacks]) for k in layers],
        [torch.cat([s.biases[k] for s in stacks]) for k in layers],
        [torch.cat([s.masks[k] for s in stacks]) for k in layers],
    )


def structural_masks(sizes: Sequence[int], live: Sequence[int], members: int,
                     dtype=torch.float64, device=None) -> list[torch.Tensor]:  # fmt: skip
    """Masks embedding a network of sizes ``live`` (same input and output sizes, hidden widths
    <= ``sizes``) in a stack of ``sizes``: ones on the top-left live block of every layer."""
    if len(live) != len(sizes) or live[0] != sizes[0] or live[-1] != sizes[-1]:
        raise ValueError(f"cannot embed sizes {tuple(live)} in {tuple(sizes)}")
    if any(a > b or a < 1 for a, b in zip(live, sizes, strict=True)):
        raise ValueError(f"cannot embed sizes {tuple(live)} in {tuple(sizes)}")
    masks = []
    for k in range(len(sizes) - 1):
        m = torch.zeros(members, sizes[k + 1], sizes[k], dtype=dtype, device=device)
        m[:, : live[k + 1], : live[k]] = 1
        masks.append(m)
    return masks


def glorot_normal(sizes: Sequence[int], generator: torch.Generator,
                  live: Sequence[int] | None = None) -> list[torch.Tensor]:  # fmt: skip
    """One network's weights (float64, CPU): W_l ~ N(0, 2 / (fan_in + fan_out)) on the live
    block (``live`` defaults to ``sizes``), zero elsewhere."""
    live = tuple(sizes) if live is None else tuple(live)
    out = []
    for k in range(len(sizes) - 1):
        fan_in, fan_out = live[k], live[k + 1]
        W = torch.zeros(sizes[k + 1], sizes[k], dtype=torch.float64)
        draw = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64)
        W[:fan_out, :fan_in] = draw * (2.0 / (fan_in + fan_out)) ** 0.5
        out.append(W)
    return out


def init_stack(sizes: Sequence[int], generators: Sequence[torch.Generator],
               dtype=torch.float64, device=None,
               live: Sequence[int] | None = None) -> MaskedStack:  # fmt: skip
    """A population with one member per generator: Glorot-normal weights, zero biases, masks
    all ones on the live block (``live``: a narrower network embedded, see the module doc)."""
    live = tuple(sizes) if live is None else tuple(live)
    per_member = [glorot_normal(sizes, g, live) for g in generators]
    P = len(per_member)
    weights = [torch.stack([w[k] for w in per_member]).to(dtype=dtype, device=device)
               for k in range(len(sizes) - 1)]  # fmt: skip
    biases = [torch.zeros(P, n, dtype=dtype, device=device) for n in sizes[1:]]
    masks = structural_masks(sizes, live, P, dtype, device)
    return MaskedStack([w * m for w, m in zip(weights, masks, strict=True)], biases, masks)


def forward(stack: MaskedStack, X: torch.Tensor, weights: Sequence[torch.Tensor] | None = None,
            biases: Sequence[torch.Tensor] | None = None) -> torch.Tensor:  # fmt: skip
    """Logits ``(P, N, n_L)`` of every member on inputs X: ``(N, n_0)`` shared by all members or
    ``(P, N, n_0)`` one batch per member. ``weights`` / ``biases`` override the stack's (the
    trainer passes its leaf tensors so autograd sees them); masks always come from the stack.

    Activations are computed feature-major, h_l = (W_l * M_l) h_{l-1} + b_l with h of shape
    ``(P, n_l, N)``, so no weight is ever transposed; the result is returned as a
    ``(P, N, n_L)`` view (``.transpose(1, 2)`` of it is contiguous, which cross-entropy over
    ``(P, C, N)`` uses without a copy)."""
    weights = stack.weights if weights is None else weights
    biases = stack.biases if biases is None else biases
    h = X.transpose(-1, -2)  # (n_0, N) shared or (P, n_0, N)
    last = len(weights) - 1
    for k, (W, b, M) in enumerate(zip(weights, biases, stack.masks, strict=True)):
        if h.dim() == 2:  # shared inputs: (P, m, n) @ (n, N) broadcasts to (P, m, N)
            h = torch.matmul(W * M, h) + b[:, :, None]
        else:
            h = torch.baddbmm(b[:, :, None], W * M, h)
        if k < last:
            h = torch.relu(h)
    return h.transpose(1, 2)
