"""Pensia et al. (NeurIPS 2020) selector: per target weight, subsets S+ (u > 0) and S- (u < 0)
of the candidate products whose sums are as close as possible to the weight (subset sum).

With n candidates (about n/2 per sign) the best subset sum is within e of any w in [-1, 1]
once n >= C log(1/e) (Lueker 1998; Pensia et al. Cor 2.5), so the width factor per target weight
is logarithmic in 1/e. Each sign pool is compacted (its candidates first, zero padding, which
no subset sum can tell apart from leaving a candidate out) and solved exactly by
:func:`~theorylab.pruning.subset_sum.closest_subset_sum`, batched over all target weights.

Example (two positive and two negative candidates, w = 0.3: 0.1 + 0.2 and -0.5 * -0.6 = 0.3):
    >>> import torch
    >>> prod = torch.tensor([[0.1, 0.2, 0.3, 0.05]], dtype=torch.float64)
    >>> pos = torch.tensor([[True, True, False, False]])
    >>> subset_sum_selector()(prod, pos, torch.tensor([0.3], dtype=torch.float64)).tolist()
    [[True, True, True, False]]
"""

from __future__ import annotations

import torch

from .subset_sum import closest_subset_sum


def _pool(products: torch.Tensor, member: torch.Tensor):
    """Compact the candidates with ``member`` first: (values (R, m), order (R, m), in_pool)."""
    order = torch.argsort((~member).to(torch.int8), dim=1, stable=True)
    m = int(member.sum(dim=1).max()) if member.numel() else 0
    order = order[:, :m]
    in_pool = member.gather(1, order)
    values = torch.where(in_pool, products.gather(1, order), 0.0)
    return values, order, in_pool


def subset_sum_selector(method: str = "auto"):
    """Selector keeping, per sign, the subset whose product sum is closest to the weight.

    Rows are grouped by the size of their sign pool, so each group is searched over exactly
    its own pool (2^(m/2) half sums for a pool of m, not for the largest pool of the batch).
    """

    def select(products, positive, targets):
        keep = torch.zeros_like(products, dtype=torch.bool)
        for member in (positive, ~positive):
            sizes = member.sum(dim=1)
            for size in torch.unique(sizes).tolist():
                if size == 0:
                    continue
                rows = torch.nonzero(sizes == size)[:, 0]
                values, order, in_pool = _pool(products[rows], member[rows])
                chosen, _ = closest_subset_sum(values, targets[rows], method)
                keep[rows[:, None], order] |= chosen & in_pool
        return keep

    return select


def pool_sizes(positive: torch.Tensor) -> tuple[int, int]:
    """Largest pool of each sign over rows: what the subset search must enumerate."""
    return int(positive.sum(dim=1).max()), int((~positive).sum(dim=1).max())
