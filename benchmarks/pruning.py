"""Benchmark for the pruning constructions (run: ``python benchmarks/pruning.py``).

Measures, side by side in one run on this machine (warm-ups excluded):
1. closest-subset-sum search per target weight at 16, 20 and 24 candidates: meet in the middle
   (batched over weights) vs brute force over all 2^m subsets vs scipy.optimize.milp (HiGHS),
   as time per weight and as ratios; the three must return the same optimum.
2. The scale of Pensia et al. (2020, Sec. 5): every weight of a 784-500-10 network (397,000
   weights) approximated within eps = 0.01 by subset sums of 21 random candidates each (they
   report 77,266 s with a MIP solver on 36 cores). Here the target is random (operator norm 1
   per layer, as in the claim), the random network is
   the depth-4 two-hop network of theorylab.pruning.two_hop (784 -> 784*21 -> 500 -> 500*21 ->
   10), every gadget is chosen by batched meet in the middle, and every gadget error
   max(|A+ - w|, |A- - w|) is recomputed from the masks. Weights whose 21 candidates cannot
   reach eps get a fresh pool of 42 candidates, redrawn if needed (counted and verified).
   The pruned network is then evaluated on random unit inputs against the propagation bound.
3. The claim end to end: ``python -m theorylab.check pruning`` of this tree against an earlier
   revision (``--baseline REV``, extracted with ``git archive``), alternately, CPU seconds
   (user + sys of the child; comparable on a shared machine) beside wall seconds.
Results are printed as Markdown (``--quick`` runs a smaller part 2 for a smoke test;
``--cli-only`` runs part 3 alone).
"""

from __future__ import annotations

import argparse
import time

import torch

from theorylab.pruning import pensia, propagation, subset_sum, two_hop
from theorylab.pruning.masked import random_network
from theorylab.pruning.sup_error import sphere_points
from theorylab.pruning.target import random_target
from theorylab.runtime import Context

EPS = 0.01
CANDIDATES = 21
FALLBACK_ROUNDS = 5


def timed(fn):
    fn()  # warm-up
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def search_comparison(sizes=(16, 20, 24)) -> list[str]:
    rows = ["| candidates m | meet in the middle (s/weight) | brute force (s/weight) | "
            "milp (s/weight) | brute/mitm | milp/mitm | mitm = brute | milp optimal |",
            "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    for m in sizes:
        many, few = 4096, 4
        values = torch.rand(many, m, generator=gen, dtype=torch.float64) * 2 - 1
        targets = torch.rand(many, generator=gen, dtype=torch.float64) * 2 - 1
        t_mitm, (_, err_mitm) = timed(
            lambda v=values, t=targets: subset_sum.meet_in_the_middle(v, t)
        )
        t_brute, (_, err_brute) = timed(
            lambda v=values[:few], t=targets[:few]: subset_sum.brute_force(v, t)
        )
        t_milp, (_, err_milp) = timed(lambda v=values[:few], t=targets[:few]: subset_sum.milp(v, t))
        per = (t_mitm / many, t_brute / few, t_milp / few)
        same = bool(torch.allclose(err_mitm[:few], err_brute, atol=1e-12, rtol=0))
        optimal = f"{int((err_milp <= err_brute + 1e-6).sum())}/{few}"
        rows.append(f"| {m} | {per[0]:.2e} | {per[1]:.2e} | {per[2]:.2e} | "
                    f"{per[1] / per[0]:.0f} | {per[2] / per[0]:.0f} | {same} | "
                    f"{optimal} |")  # fmt: skip
    return rows


def pensia_scale(dims, ctx: Context) -> dict:
    start = time.perf_counter()
    target = random_target(dims, ctx)
    net = random_network(two_hop.pair_widths(dims, CANDIDATES), "uniform", ctx, "network")
    pairs = two_hop.prune(net, target.weights, CANDIDATES, pensia.subset_sum_selector(
        "meet_in_the_middle"))  # fmt: skip
    t_prune = time.perf_counter() - start
    errors = torch.cat([r.gadget_error.reshape(-1) for r in pairs])
    weights = torch.cat([W.reshape(-1) for W in target.weights])
    failing = errors > EPS
    # Fallback: each failing weight gets a fresh pool of 2 x 21 candidates, drawn again for the
    # rare weights it does not serve (an unlucky draw, e.g. one sign pool holding only products
    # of one sign), up to FALLBACK_ROUNDS times; every pool is solved and its error recomputed.
    escalations, fallback_kept, pool = [], 0, 2 * CANDIDATES
    todo = weights[failing]
    gen = ctx.generator("fallback")
    for _round in range(FALLBACK_ROUNDS):
        if todo.numel() == 0:
            break
        u = torch.rand(todo.numel(), pool, generator=gen, dtype=torch.float64) * 2 - 1
        v = torch.rand(todo.numel(), pool, generator=gen, dtype=torch.float64) * 2 - 1
        keep = pensia.subset_sum_selector("meet_in_the_middle")(u * v, u > 0, todo)
        kept = u * v * keep
        err = torch.maximum(((kept * (u > 0)).sum(1) - todo).abs(),
                            ((kept * (u < 0)).sum(1) - todo).abs())  # fmt: skip
        ok = err <= EPS
        escalations.append(f"{int(ok.sum())}@{pool}(round {_round + 1})")
        fallback_kept += int(keep[ok].sum())
        todo = todo[~ok]
    elapsed = time.perf_counter() - start
    x = sphere_points(256, dims[0], ctx, "inputs")
    layer_errors = [float(r.gadget_error.max()) for r in pairs]
    with torch.no_grad():
        out_err = (net(x) - target(x)).abs().amax(dim=1)
        bound = propagation.pointwise_bound(target, layer_errors, x)
    return {
        "weights": weights.numel(), "seconds": elapsed, "prune_s": t_prune,
        "within_eps_with_21": int((~failing).sum()), "needed_more": int(failing.sum()),
        "solved_with_larger_pool": " ".join(escalations) or "-",
        "unsolved": int(todo.numel()), "trivial": int((weights.abs() <= EPS).sum()),
        "kept_candidates": sum(int(m.sum()) for m in net.masks[1::2]) + fallback_kept,
        "max_gadget_error_21": float(errors.max()), "keep_fraction": net.keep_fraction,
        "output_error_max": float(out_err.max()),
        "bound_ratio_max": float((out_err / bound).max()),
    }  # fmt: skip


def cli(baseline: str | None) -> None:
    """The default claim end to end, this tree against ``baseline`` (one thread)."""
    import tempfile

    from timing import claim_cost, git_tree

    print("\n| `python -m theorylab.check pruning` | CPU | wall | in claim |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", None)]
        if baseline:
            trees.insert(0, (f"revision {baseline}", git_tree(baseline, tmp)))
        for label, tree in trees:
            cost = claim_cost("pruning", tree=tree)
            print(f"| {label} (exit {cost['exit']}) | {cost['cpu']:.1f} s | {cost['wall']:.1f} s "
                  f"| {cost['in_claim']} s |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="78-50-10 target instead")
    parser.add_argument("--baseline", metavar="REV", help="git revision to compare the CLI with")
    parser.add_argument("--cli-only", action="store_true", help="only the end-to-end runs")
    args = parser.parse_args()
    if args.cli_only:
        cli(args.baseline)
        return
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("### Subset-sum search per target weight\n")
    print("\n".join(search_comparison()))
    dims = [78, 50, 10] if args.quick else [784, 500, 10]
    print(f"\n### Pensia et al. scale: {'-'.join(map(str, dims))} target, {CANDIDATES} "
          f"candidates per weight, eps = {EPS}\n")  # fmt: skip
    keys = ["weights", "seconds", "prune_s", "within_eps_with_21", "needed_more",
            "solved_with_larger_pool", "unsolved", "trivial", "kept_candidates",
            "max_gadget_error_21",
            "keep_fraction", "output_error_max", "bound_ratio_max"]  # fmt: skip
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    r = pensia_scale(dims, Context(seed=0))
    cells = [f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k]) for k in keys]
    print("| " + " | ".join(cells) + " |")
    cli(args.baseline)


if __name__ == "__main__":
    main()
