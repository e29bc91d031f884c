"""How many candidates per target weight a construction needs, measured by simulation.

A *trial* draws a target weight w ~ U[-w_max, w_max] and a stream of candidates (u_t, v_t),
i.i.d. U[-1, 1]; the candidates needed is the smallest N such that the first N candidates
contain a gadget within e of w (both sign pools succeed, see :mod:`.two_hop`):

- ``subset_sum``: each sign pool by subset sums (:func:`.subset_sum.first_success_prefix`);
- ``single_product``: each sign pool by one product (or the empty sum when |w| <= e).

A sign pool that succeeds with its first k members needs the candidates up to the position of
its k-th member; the trial needs the later of the two pools. Adding candidates never hurts, so
"first N succeed" is monotone in N and the q-quantile of the per-trial needs is the number of
candidates at which a fraction q of weights succeeds. Trials that do not succeed within the
drawn stream are censored (recorded as max + 1): a quantile landing on them is infinite.

:func:`network_candidates_needed` does the same for whole targets (all weights of a random
depth-L target, per-weight tolerance from the propagation bound, u shared across outputs as in
the real construction): the width factor n a target of that size needs.

Example (the first candidate u = v = 1 gives 1.0 for w = 1.0 in the positive pool, the
negative pool needs the second, u = -1, v = -1):
    >>> import torch
    >>> u = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    >>> w = torch.tensor([1.0], dtype=torch.float64)
    >>> needed_per_trial(u, u.clone(), w, 0.01, "single_product")
    tensor([2])
"""

from __future__ import annotations

import math

import torch

from ..runtime import Context
from .propagation import per_weight_tolerance
from .subset_sum import first_success_prefix
from .target import random_target, target_dims

CONSTRUCTIONS = ("subset_sum", "single_product")


def _pool_needed_subset(products, member, targets, tolerance, pool_cap):
    """Candidates needed by one sign pool (overall count), via subset-sum prefixes."""
    rows, n = products.shape
    order = torch.argsort((~member).to(torch.int8), dim=1, stable=True)[:, :pool_cap]
    in_pool = member.gather(1, order)
    values = torch.where(in_pool, products.gather(1, order), torch.nan)
    k = first_success_prefix(values, targets, tolerance)  # pool prefix size, or cap + 1
    position = order.gather(1, (k - 1).clamp(min=0, max=order.shape[1] - 1)[:, None])[:, 0] + 1
    needed = torch.where(k == 0, 0, position)
    return torch.where(k > order.shape[1], n + 1, needed)


def _pool_needed_single(products, member, targets, tolerance):
    rows, n = products.shape
    tol = torch.as_tensor(tolerance, dtype=products.dtype).expand(rows)
    hit = member & ((products - targets[:, None]).abs() <= tol[:, None])
    first = torch.where(hit.any(dim=1), hit.to(torch.int8).argmax(dim=1) + 1, n + 1)
    return torch.where(targets.abs() <= tol, 0, first)


def needed_per_trial(u, v, targets, tolerance, construction: str, pool_cap: int = 24):
    """Candidates needed per row; u, v: (R, n) candidate weights, targets: (R,)."""
    products = u * v
    needs = []
    for member in (u > 0, u < 0):
        if construction == "subset_sum":
            needs.append(_pool_needed_subset(products, member, targets, tolerance, pool_cap))
        elif construction == "single_product":
            needs.append(_pool_needed_single(products, member, targets, tolerance))
        else:
            raise ValueError(f"unknown construction {construction!r}")
    return torch.maximum(*needs)


def quantile_needed(needed: torch.Tensor, rate: float, censored: int) -> float:
    """Smallest N such that a fraction >= rate of trials need at most N (inf if censored)."""
    values = torch.sort(needed).values
    index = max(0, math.ceil(rate * values.numel()) - 1)
    value = int(values[index])
    return math.inf if value >= censored else float(value)


def scalar_trials(construction: str, tolerance: float, trials: int, max_candidates: int,
                  weight_max: float, ctx: Context, stream: str):  # fmt: skip
    """Per-trial candidates needed for scalar gadgets at tolerance e (w ~ U[-w_max, w_max])."""
    gen = ctx.generator(stream)
    u = torch.rand(trials, max_candidates, generator=gen, dtype=torch.float64) * 2 - 1
    v = torch.rand(trials, max_candidates, generator=gen, dtype=torch.float64) * 2 - 1
    w = (torch.rand(trials, generator=gen, dtype=torch.float64) * 2 - 1) * weight_max
    return needed_per_trial(u, v, w, tolerance, construction)


def network_candidates_needed(input_dim: int, depth: int, eps: float, trials: int,
                              max_candidates: int, ctx: Context, stream: str,
                              construction: str = "subset_sum"):  # fmt: skip
    """Per random target (d = width = input_dim, depth L, one output): the width factor n at
    which every weight's gadget is within the per-weight tolerance solving uniform_bound = eps.

    The rows (one per target weight, the u of an input coordinate shared by all its outputs) of
    every layer of every trial are searched in one batch with per-row tolerances; a trial's need
    is the maximum over its rows. Returns (needed (trials,), tolerances (trials,)).
    """
    dims = target_dims(input_dim, input_dim, depth)
    u_rows, v_rows, targets, tols, owner, tolerances = [], [], [], [], [], []
    for trial in range(trials):
        target = random_target(dims, ctx, stream=f"{stream}/{trial}/target")
        tol = per_weight_tolerance(target, eps)
        tolerances.append(tol)
        gen = ctx.generator(f"{stream}/{trial}/candidates")
        for W in target.weights:
            d_out, d_in = W.shape
            u = torch.rand(d_in, max_candidates, generator=gen, dtype=torch.float64) * 2 - 1
            v = torch.rand(d_out, d_in, max_candidates, generator=gen, dtype=torch.float64) * 2 - 1
            u_rows.append(u[None].expand(d_out, d_in, max_candidates).reshape(-1, max_candidates))
            v_rows.append(v.reshape(-1, max_candidates))
            targets.append(W.reshape(-1).detach().cpu().to(torch.float64))
            tols.append(torch.full((d_out * d_in,), tol, dtype=torch.float64))
            owner.append(torch.full((d_out * d_in,), trial, dtype=torch.long))
    rows = needed_per_trial(torch.cat(u_rows), torch.cat(v_rows), torch.cat(targets),
                            torch.cat(tols), construction)  # fmt: skip
    needed = torch.zeros(trials, dtype=torch.long).scatter_reduce(
        0, torch.cat(owner), rows, reduce="amax"
    )
    return needed, tolerances
