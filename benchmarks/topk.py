"""Top-k masks by selection (theorylab.masks.topk) vs a stable descending sort.

``python benchmarks/topk.py [--repeats 5]`` (results: results_sparse.md, "Top-k masks").

edge-popup (Ramanujan et al. 2020) recomputes every layer's top-k mask of |scores| at every
training step, for every network of the population, each with its own kept fraction.
prune_at_init's default population is 40 networks (2 widths x 5 fractions x 4 seeds) of
LeNet-300-100 layers up to 300 x 100. The benchmark builds those score tensors and times, side
by side in one process:

- sort: the mask of a stable descending ``argsort`` (rank < k), the method the module used
  before;
- selection: :func:`theorylab.masks.topk._top_mask` (``kthvalue`` per distinct count, ties
  taken in positional order).

It checks that both give the same masks, also on scores with many ties, and prints the
ratios.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from timing import best_of  # noqa: E402

from theorylab.masks import topk  # noqa: E402

FRACTIONS = (0.02, 0.1, 0.3, 0.5, 0.9)
LAYERS = {"300 x 64": (300, 64), "100 x 300": (100, 300), "10 x 100": (10, 100)}


def sort_mask(flat: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Reference: rank of each entry in a stable descending sort, kept where rank < k."""
    order = torch.argsort(flat, dim=-1, descending=True, stable=True)
    positions = torch.arange(flat.shape[-1]).expand_as(order)
    ranks = torch.empty_like(order).scatter(-1, order, positions)
    return ranks < k[..., None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    members = len(FRACTIONS) * 8
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, "
          f"{members} networks, fractions {FRACTIONS} (8 networks each)")  # fmt: skip
    print("| layer | sort (ms) | selection (ms) | speed-up | same masks (random / tied) |")
    print("|---|---|---|---|---|")
    for name, (rows, cols) in LAYERS.items():
        n = rows * cols
        flat = torch.rand(members, n, generator=gen, dtype=torch.float64)
        k = torch.tensor([max(1, round(f * n)) for f in FRACTIONS] * 8)
        tied = torch.randint(0, 5, (members, n), generator=gen).to(torch.float64)
        same = (
            torch.equal(sort_mask(flat, k), topk._top_mask(flat, k)),
            torch.equal(sort_mask(tied, k), topk._top_mask(tied, k)),
        )
        t_sort = best_of(lambda: sort_mask(flat, k), args.repeats)  # noqa: B023
        t_select = best_of(lambda: topk._top_mask(flat, k), args.repeats)  # noqa: B023
        print(f"| {name} | {1e3 * t_sort:.1f} | {1e3 * t_select:.1f} | "
              f"{t_sort / t_select:.1f}x | {same[0]} / {same[1]} |")  # fmt: skip


if __name__ == "__main__":
    main()
