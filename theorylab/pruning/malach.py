"""Malach et al. (ICML 2020) selector: per target weight and per sign of u, keep the single
candidate product closest to the weight (or none, when |w| is already closer to 0).

A candidate matches within e with probability p(w, e) ~ 2 e rho(w)
(:mod:`theorylab.theory.malach2020`), so the number of candidates needed for a fixed success
rate grows like 1/e: polynomial width, against logarithmic for subset sums (:mod:`.pensia`).

Example (the closest positive-u product to 0.3 is 0.25, the closest negative-u one is 0.4):
    >>> import torch
    >>> prod = torch.tensor([[0.25, 0.9, 0.4, -0.2]], dtype=torch.float64)
    >>> pos = torch.tensor([[True, True, False, False]])
    >>> single_product_selector(prod, pos, torch.tensor([0.3], dtype=torch.float64)).tolist()
    [[True, False, True, False]]
"""

from __future__ import annotations

import torch


def single_product_selector(products, positive, targets):
    """Per row and sign: the one product nearest the target, if nearer than the empty sum."""
    keep = torch.zeros_like(products, dtype=torch.bool)
    err = (products - targets[:, None]).abs()
    for member in (positive, ~positive):
        masked = torch.where(member, err, torch.inf)
        best_err, best = masked.min(dim=1)
        useful = best_err < targets.abs()
        keep[torch.nonzero(useful)[:, 0], best[useful]] = True
    return keep
