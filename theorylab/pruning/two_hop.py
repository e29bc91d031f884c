"""The two-hop layout shared by both constructions: one target layer -> two random layers.

For target layer W (d_out, d_in) and ``n`` candidates per target weight, the random pair is
M_a: (d_in n, d_in) and M_b: (d_out, d_in n), i.i.d. entries. Intermediate neuron (k, t)
(row k n + t of M_a) is pruned to see only input coordinate k, with weight
u_{k,t} = M_a[k n + t, k]; its weight towards output j is v_{j,k,t} = M_b[j, k n + t]. Target
weight W_{jk} then has the n candidate products u_{k,t} v_{j,k,t}, t = 1..n (the u are shared by
all outputs j, the v are not), and a *selector* chooses which paths to keep:

    sum_{t kept, u_{k,t} > 0} u v  ~ W_{jk}   (active when z_k > 0)
    sum_{t kept, u_{k,t} < 0} u v  ~ W_{jk}   (active when z_k < 0; x = relu(x) - relu(-x)).

The result is a masked depth-2L network (masks on the random weights only) evaluated by the
ordinary :class:`~theorylab.pruning.masked.MaskedNetwork` forward pass. Per-weight gadget errors
are recomputed from the masks: max(|A+ - w|, |A- - w|) (Pensia et al. 2020 Lemma 1's case
split; :data:`theorylab.theory.pensia2020.GADGET_SUP_ERROR`).

Example (n = 1 candidate with u = 1, v = 0.5 realises w = 0.5 for x > 0; no u < 0 candidate, so
the x < 0 branch is the empty sum 0 and the gadget error is |0 - 0.5|):
    >>> import torch
    >>> from theorylab.pruning.masked import MaskedNetwork
    >>> net = MaskedNetwork([torch.tensor([[1.0]]).double(), torch.tensor([[0.5]]).double()])
    >>> res = prune_pair(net, 0, torch.tensor([[0.5]]).double(), 1, select_all)
    >>> res.gadget_error.tolist()
    [[0.5]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..theory import pensia2020
from .masked import MaskedNetwork

# selector(products (R, n), positive (R, n) bool, targets (R,)) -> keep (R, n) bool
Selector = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def select_all(products, positive, targets):
    """Keep every candidate (a reference selector for tests)."""
    return torch.ones_like(products, dtype=torch.bool)


@dataclass
class PairResult:
    gadget_error: torch.Tensor  # (d_out, d_in): sup_{|x|<=1} |g_S(x) - W_jk x|
    sum_plus: torch.Tensor  # (d_out, d_in): A+ realised
    sum_minus: torch.Tensor


def candidate_products(net: MaskedNetwork, pair: int, n: int):
    """(u (d_in, n), v (d_out, d_in, n)) of layer pair ``pair`` (layers 2 pair, 2 pair + 1)."""
    first, second = net.weights[2 * pair], net.weights[2 * pair + 1]
    d_in = first.shape[1]
    rows = torch.arange(d_in * n, device=first.device)
    u = first[rows, rows // n].reshape(d_in, n)
    v = second.reshape(second.shape[0], d_in, n)
    return u, v


def prune_pair(net: MaskedNetwork, pair: int, W: torch.Tensor, n: int, selector: Selector):
    """Set the masks of layers 2 pair and 2 pair + 1 so the pair realises W; in place."""
    d_out, d_in = W.shape
    u, v = candidate_products(net, pair, n)
    products = u[None] * v  # (d_out, d_in, n)
    positive = (u > 0)[None].expand_as(products)
    keep = selector(products.reshape(-1, n), positive.reshape(-1, n), W.reshape(-1)).reshape(
        d_out, d_in, n
    )
    keep = keep & (u != 0)[None]  # a zero u carries nothing in either branch
    second_mask = keep.reshape(d_out, d_in * n)
    used = keep.any(dim=0).reshape(d_in * n)  # intermediate neurons some output uses
    first_mask = torch.zeros_like(net.masks[2 * pair])
    rows = torch.arange(d_in * n, device=W.device)
    first_mask[rows, rows // n] = used
    net.masks[2 * pair] = first_mask
    net.masks[2 * pair + 1] = second_mask
    kept_products = products * keep
    sum_plus = (kept_products * positive).sum(dim=2)
    sum_minus = (kept_products * ~positive).sum(dim=2)
    error = pensia2020.gadget_sup_error(sum_plus, sum_minus, W, 1.0)
    return PairResult(error, sum_plus, sum_minus)


def pair_widths(target_dims: list[int], n: int) -> list[int]:
    """Widths of the random depth-2L network: d_0, d_0 n, d_1, d_1 n, ..., d_{L-1} n, d_L."""
    widths = [target_dims[0]]
    for i in range(len(target_dims) - 1):
        widths += [target_dims[i] * n, target_dims[i + 1]]
    return widths


def prune(net: MaskedNetwork, target_weights: list[torch.Tensor], n: int, selector: Selector):
    """Prune every layer pair of ``net`` for the target; returns the per-pair results."""
    if net.depth != 2 * len(target_weights):
        raise ValueError(f"need a depth-{2 * len(target_weights)} network, got {net.depth}")
    return [prune_pair(net, i, W, n, selector) for i, W in enumerate(target_weights)]


def gadget_errors_on_grid(net: MaskedNetwork, pair: int, W: torch.Tensor, points: int = 201):
    """max over x in a grid of [-1, 1] (endpoints included) of |g_jk(x) - W_jk x| for every
    gadget of layer pair ``pair``, evaluated through the masked network's own two layers
    (input x e_k: only the intermediate neurons of coordinate k see it). A brute-force
    measurement of the gadget sup error, independent of the branch sums A+ and A-; (d_out,
    d_in)."""
    d_out, d_in = W.shape
    xs = torch.linspace(-1.0, 1.0, points, dtype=W.dtype, device=W.device)
    inputs = torch.zeros(d_in, points, d_in, dtype=W.dtype, device=W.device)
    inputs[torch.arange(d_in), :, torch.arange(d_in)] = xs
    layers = MaskedNetwork(net.weights[2 * pair : 2 * pair + 2], net.masks[2 * pair : 2 * pair + 2])
    with torch.no_grad():
        out = layers(inputs.reshape(-1, d_in)).reshape(d_in, points, d_out)
    # out[k, :, j] = g_jk(x); compare with W_jk x
    diff = out - xs[None, :, None] * W.T[:, None, :]
    return diff.abs().amax(dim=1).T
