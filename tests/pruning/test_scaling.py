"""Candidates-needed measurements against their definitions and the closed form."""

import math

import pytest
import torch

from theorylab.pruning import scaling
from theorylab.runtime import Context
from theorylab.theory import malach2020, pensia2020


def _first_n_succeeding(u, v, w, tol, construction):
    """Definition: smallest N whose first N candidates hold a gadget within tol (brute force)."""
    from theorylab.pruning.subset_sum import brute_force

    n = u.numel()
    for N in range(n + 1):
        ok = True
        for sign in (1, -1):
            pool = (u[:N] * v[:N])[(u[:N] * sign) > 0]
            if construction == "single_product":
                best = min([abs(w)] + [abs(float(p) - w) for p in pool])
            else:
                best = float(brute_force(pool[None], torch.tensor([w]).double())[1][0])
            ok &= best <= tol
        if ok:
            return N
    return n + 1


@pytest.mark.parametrize("construction", ["subset_sum", "single_product"])
def test_needed_per_trial_matches_definition(construction):
    g = torch.Generator().manual_seed(7)
    u = torch.rand(30, 12, generator=g, dtype=torch.float64) * 2 - 1
    v = torch.rand(30, 12, generator=g, dtype=torch.float64) * 2 - 1
    w = (torch.rand(30, generator=g, dtype=torch.float64) * 2 - 1) * 0.5
    got = scaling.needed_per_trial(u, v, w, 0.05, construction)
    expected = [_first_n_succeeding(u[i], v[i], float(w[i]), 0.05, construction) for i in range(30)]
    assert got.tolist() == expected


def test_quantile_needed_and_censoring():
    needed = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 11])
    assert scaling.quantile_needed(needed, 0.9, censored=11) == 9.0
    assert scaling.quantile_needed(needed, 1.0, censored=11) == math.inf


def test_single_product_quantile_matches_the_closed_form():
    """Statistical tier: 2000 trials, the 0.9-quantile within 10% of the exact formula."""
    tol = 0.05
    predicted = malach2020.candidates_needed(tol, 0.5, 0.9)
    needed = scaling.scalar_trials("single_product", tol, 2000, 3 * predicted, 0.5, Context(), "t")
    measured = scaling.quantile_needed(needed, 0.9, 3 * predicted + 1)
    assert abs(math.log(measured / predicted)) < 0.1, (measured, predicted)


def test_network_need_is_the_max_over_its_weights():
    """The batched search over trials equals a per-trial, per-layer computation."""
    from theorylab.pruning.propagation import per_weight_tolerance
    from theorylab.pruning.target import random_target, target_dims

    ctx = Context(seed=4)
    needed, tols = scaling.network_candidates_needed(3, 2, 0.1, 3, 40, ctx, "s")
    for trial in range(3):
        target = random_target(target_dims(3, 3, 2), ctx, stream=f"s/{trial}/target")
        assert tols[trial] == per_weight_tolerance(target, 0.1)
        gen = ctx.generator(f"s/{trial}/candidates")
        worst = 0
        for W in target.weights:
            d_out, d_in = W.shape
            u = torch.rand(d_in, 40, generator=gen, dtype=torch.float64) * 2 - 1
            v = torch.rand(d_out, d_in, 40, generator=gen, dtype=torch.float64) * 2 - 1
            for j in range(d_out):
                rows = scaling.needed_per_trial(u, v[j], W[j], tols[trial], "subset_sum")
                worst = max(worst, int(rows.max()))
        assert int(needed[trial]) == worst


def test_counting_floor_is_below_the_measured_need_and_its_bound_holds():
    """The counting bound P(first N succeed) <= E[min(1, 2^min(M, N-M) e / W)] against the
    measured success rate of the exact subset-sum search (Monte Carlo, 1500 trials), and the
    floor it gives against the measured 0.9-quantile (censored beyond 20 candidates)."""
    ctx = Context(seed=11)
    e, w_max, trials = 0.025, 0.5, 1500
    needed = scaling.scalar_trials("subset_sum", e, trials, 20, w_max, ctx, "floor")
    for n in (4, 8, 12, 16):
        rate = float((needed <= n).double().mean())
        upper = pensia2020.subset_sum_success_upper(n, e, w_max)
        assert rate <= upper + 4 * (upper * (1 - upper) / trials) ** 0.5 + 1e-3
    floor = pensia2020.subset_sum_candidates_floor(e, w_max, 0.9)
    assert floor == 13 and floor <= scaling.quantile_needed(needed, 0.9, 21)
    # a pool of m candidates covers at most 2^m e / W of the targets: with m = 0 only |w| <= e
    assert pensia2020.subset_sum_success_upper(0, e, w_max) == pytest.approx(e / w_max, abs=1e-15)
