"""Subset-sum search: for each row of candidate values a_1..a_m and a target w, the subset S
minimising |sum_{i in S} a_i - w|, batched over rows (one row per target weight).

- :func:`meet_in_the_middle` (exact; "auto" uses it up to EXHAUSTIVE_LIMIT = 36): split the
  candidates into halves A and B, enumerate the 2^|A| and 2^|B| half sums, sort the B sums,
  and for every A sum s look up w - s with ``torch.searchsorted``; the best pair is the exact
  optimum. Cost O(2^(m/2) m) per row instead of O(2^m) (Horowitz and Sahni 1974).
- :func:`brute_force` (exact, reference): all 2^m sums, argmin.
- :func:`milp` (exact up to the solver's tolerance, any m): minimise t subject to
  -t <= sum_i a_i b_i - w <= t, b in {0, 1}^m, with scipy.optimize.milp (HiGHS), one row at a
  time. Pensia et al. (2020) used a MIP solver (Gurobi) in the same way.
- :func:`first_success_prefix`: the smallest k such that some subset of a_1..a_k is within a
  tolerance of w, by doubling the set of subset sums one candidate at a time (rows that have
  succeeded leave the computation).

Every search returns a boolean selection mask; the caller recomputes sums from masks, so a
search bug cannot hide behind a reported error.

Example (1 + 4 = 5 is exact):
    >>> import torch
    >>> sel, err = meet_in_the_middle(torch.tensor([[1.0, 2.0, 4.0]]), torch.tensor([5.0]))
    >>> sel.tolist(), err.tolist()
    ([[True, False, True]], [0.0])
"""

from __future__ import annotations

import numpy as np
import torch

from . import CHUNK_ELEMENTS, EXHAUSTIVE_LIMIT

# Exhaustive search handles pools up to this size; larger pools go to the MILP solver. At 36 a
# row needs 2 x 2^18 half sums (~25 MB with the sort and lookups; rows are chunked);
# benchmarks/results_pruning.md shows meet in the middle ~3000x faster than brute force and
# ~10^4x faster than HiGHS at 24, where HiGHS does not always reach the optimum within 10 s, so
# the crossover sits above 24: with the claim's default 48 candidates per weight a sign pool
# exceeds 36 with probability ~1e-4.
# (EXHAUSTIVE_LIMIT = 36 lives in theorylab/pruning/__init__.py, light to import.)
# Half sums per chunk of rows: bounds the working set of meet_in_the_middle to ~100 MB.
_CHUNK_ELEMENTS = CHUNK_ELEMENTS


def subset_bits(m: int, device=None) -> torch.Tensor:
    """(2^m, m) float matrix whose row i holds the binary digits of i (bit j = candidate j)."""
    idx = torch.arange(2**m, device=device)
    return ((idx[:, None] >> torch.arange(m, device=device)) & 1).to(torch.float64)


def subset_sums(values: torch.Tensor) -> torch.Tensor:
    """All 2^m subset sums of each row: (R, m) -> (R, 2^m), column i = subset with bits of i."""
    bits = subset_bits(values.shape[1], values.device).to(values.dtype)
    return values @ bits.T


def _rows_per_chunk(width: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, width))


def brute_force(values: torch.Tensor, targets: torch.Tensor):
    """Exact closest subset sum by enumerating all 2^m subsets: (mask (R, m), error (R,))."""
    m = values.shape[1]
    bits = subset_bits(m, values.device).to(values.dtype)
    masks, errors = [], []
    for start in range(0, values.shape[0], _rows_per_chunk(2**m)):
        v = values[start : start + _rows_per_chunk(2**m)]
        t = targets[start : start + v.shape[0]]
        err = (v @ bits.T - t[:, None]).abs()
        best = err.argmin(dim=1)
        masks.append(bits[best].bool())
        errors.append(err.gather(1, best[:, None])[:, 0])
    return torch.cat(masks), torch.cat(errors)


def meet_in_the_middle(values: torch.Tensor, targets: torch.Tensor):
    """Exact closest subset sum per row in O(2^(m/2) m). Returns (mask (R, m), error (R,)).

    The error is |sum of the selected values - target|, recomputed from the mask.
    """
    rows, m = values.shape
    if m == 0:
        return values.new_zeros(rows, 0, dtype=torch.bool), targets.abs()
    half = m // 2
    bits_a = subset_bits(half, values.device).to(values.dtype)
    bits_b = subset_bits(m - half, values.device).to(values.dtype)
    masks = []
    for start in range(0, rows, _rows_per_chunk(2 ** (m - half + 1))):
        v = values[start : start + _rows_per_chunk(2 ** (m - half + 1))]
        t = targets[start : start + v.shape[0]]
        sums_a = v[:, :half] @ bits_a.T  # (r, 2^half)
        sums_b, order_b = torch.sort(v[:, half:] @ bits_b.T, dim=1)  # (r, 2^(m-half))
        query = (t[:, None] - sums_a).contiguous()
        pos = torch.searchsorted(sums_b, query)
        last = sums_b.shape[1] - 1
        best_err, best_a, best_b = None, None, None
        for candidate in (pos - 1, pos):
            candidate = candidate.clamp(0, last)
            err = (sums_a + sums_b.gather(1, candidate) - t[:, None]).abs()
            err_min, a_idx = err.min(dim=1)
            b_idx = order_b.gather(1, candidate.gather(1, a_idx[:, None]))[:, 0]
            if best_err is None:
                best_err, best_a, best_b = err_min, a_idx, b_idx
            else:
                better = err_min < best_err
                best_err = torch.where(better, err_min, best_err)
                best_a = torch.where(better, a_idx, best_a)
                best_b = torch.where(better, b_idx, best_b)
        masks.append(torch.cat([bits_a[best_a], bits_b[best_b]], dim=1).bool())
    mask = torch.cat(masks) if masks else values.new_zeros(0, m, dtype=torch.bool)
    error = ((values * mask).sum(dim=1) - targets).abs()
    return mask, error


def milp(values: torch.Tensor, targets: torch.Tensor, time_limit: float = 10.0):
    """Closest subset sum per row by mixed-integer programming (scipy.optimize.milp, HiGHS).

    Variables (b_1..b_m, t): minimise t with  sum a_i b_i - t <= w  and  sum a_i b_i + t >= w.
    Returns (mask (R, m), error (R,)), the error recomputed from the mask.
    """
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.optimize import milp as scipy_milp

    a = values.detach().cpu().numpy().astype(np.float64)
    w = targets.detach().cpu().numpy().astype(np.float64)
    rows, m = a.shape
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    integrality = np.ones(m + 1)
    integrality[-1] = 0
    bounds = Bounds(np.zeros(m + 1), np.r_[np.ones(m), np.inf])
    mask = np.zeros((rows, m), dtype=bool)
    for i in range(rows):
        A = np.vstack([np.r_[a[i], -1.0], np.r_[a[i], 1.0]])
        cons = LinearConstraint(A, [-np.inf, w[i]], [w[i], np.inf])
        res = scipy_milp(cost, constraints=cons, integrality=integrality, bounds=bounds,
                         options={"time_limit": time_limit})  # fmt: skip
        if res.x is not None:
            mask[i] = res.x[:m] > 0.5
    mask_t = torch.as_tensor(mask, device=values.device)
    error = ((values * mask_t).sum(dim=1) - targets).abs()
    return mask_t, error


def closest_subset_sum(values: torch.Tensor, targets: torch.Tensor, method: str = "auto"):
    """Dispatch: meet-in-the-middle up to EXHAUSTIVE_LIMIT candidates, MILP beyond ("auto")."""
    if method == "auto":
        method = "meet_in_the_middle" if values.shape[1] <= EXHAUSTIVE_LIMIT else "milp"
    if method == "meet_in_the_middle":
        return meet_in_the_middle(values, targets)
    if method == "milp":
        return milp(values, targets)
    if method == "brute_force":
        return brute_force(values, targets)
    raise ValueError(f"unknown subset-sum method {method!r}")


def first_success_prefix(values: torch.Tensor, targets: torch.Tensor, tolerance) -> torch.Tensor:
    """Smallest k such that a subset of values[:, :k] is within ``tolerance`` of the target.

    k = 0 when |w| <= tolerance (empty subset); m + 1 when no prefix succeeds. NaN values (padding)
    never succeed. ``tolerance`` is a scalar or a per-row tensor.

    Example:
        >>> first_success_prefix(torch.tensor([[0.5, 0.25, 1.0]]), torch.tensor([0.75]), 0.01)
        tensor([2])
    """
    rows, m = values.shape
    tol = torch.as_tensor(tolerance, dtype=values.dtype, device=values.device).expand(rows)
    needed = torch.full((rows,), m + 1, dtype=torch.long, device=values.device)
    needed[targets.abs() <= tol] = 0
    active = torch.nonzero(needed > 0)[:, 0]
    _grow(values, targets, tol, needed, active, values.new_zeros(active.numel(), 1), 0)
    return needed


def _grow(values, targets, tol, needed, active, sums, k):
    """Add candidates k, k+1, ... to the subset sums of the ``active`` rows (in place on
    ``needed``); splits the rows in two when the working set would exceed _CHUNK_ELEMENTS."""
    m = values.shape[1]
    while k < m and active.numel() > 0:
        if active.numel() > 1 and active.numel() * sums.shape[1] * 2 > _CHUNK_ELEMENTS:
            half = active.numel() // 2
            _grow(values, targets, tol, needed, active[:half], sums[:half], k)
            _grow(values, targets, tol, needed, active[half:], sums[half:], k)
            return
        new = sums + values[active, k : k + 1]
        hit = ((new - targets[active, None]).abs() <= tol[active, None]).any(dim=1)
        needed[active[hit]] = k + 1
        keep = ~hit
        active = active[keep]
        sums = torch.cat([sums[keep], new[keep]], dim=1)
        k += 1
