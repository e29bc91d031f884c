"""Benchmark for no_bad_minima (run: ``python benchmarks/no_bad_minima.py [--seeds 16]``).

Measures, side by side in one run on this machine, batched (all seeds of a width as one
computation: stacked parameters, one autograd pass, per-run L-BFGS state) against looped (the
same optimiser called once per seed with a batch of one) for:

1. L-BFGS to the claim's gradient tolerance on the Soudry-Carmon net at d0 d1 = 2N (N = 60,
   d0 = 6, d1 = 20; every run converges there, so both sides do the same work per run);
2. the same on the teacher-student population loss at student width k = 10;
3. dense Hessians (forward-over-reverse, vmapped over directions) at the final points;
4. the default claim run, per sub-experiment (CPU seconds of the measurement in this
   process), and ``python -m theorylab.check no_bad_minima`` end to end at 1 and 2 torch threads
   against the same command of an earlier revision (``--baseline REV``, extracted with
   ``git archive``), run alternately: CPU seconds (user + sys of the child) are the comparable
   figure on a shared machine, wall seconds are printed beside them.

Both sides of 1-3 must converge on the same runs (asserted); warm-up calls are excluded; the
tables are printed as Markdown.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from timing import claim_cost, git_tree

from theorylab.critical_points import batched_lbfgs, dense_hessians
from theorylab.nets import shallow
from theorylab.runtime import Context

torch.set_default_dtype(torch.float64)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def soudry_problem(ctx: Context, S: int, N=60, d0=6, d1=20, leak=0.1):
    X = ctx.randn(S, N, d0, stream="bench/X")
    y = ctx.randn(S, N, stream="bench/y")
    noise = 1 + 0.5 * ctx.randn(S, N, d1, stream="bench/noise")
    lay = shallow.noisy_leaky_relu_layout(d0, d1)
    theta0 = ctx.randn(S, lay.size, stream="bench/init")
    theta0[:, lay.slice("W")] /= math.sqrt(d0)
    theta0[:, lay.slice("z")] /= math.sqrt(d1)

    def loss(rows):
        def fn(theta):
            return shallow.noisy_leaky_relu_loss(theta, X[rows], y[rows], noise[rows], leak)

        return fn

    return loss, theta0


def teacher_problem(ctx: Context, S: int, k=10):
    V = torch.eye(k)
    theta0 = ctx.randn(S, k * k, stream="bench/student") / math.sqrt(k)

    def loss(rows):
        return lambda theta: shallow.teacher_student_population_loss(theta, V)

    return loss, theta0


def compare(name, make_loss, theta0, tol, max_iters=1500):
    S = theta0.shape[0]
    everything = slice(0, S)
    batched_lbfgs(make_loss(slice(0, 1)), theta0[:1], tol, 20)  # warm-up
    batched, t_batched = timed(lambda: batched_lbfgs(make_loss(everything), theta0, tol, max_iters))

    def loop():
        return [
            batched_lbfgs(make_loss(slice(s, s + 1)), theta0[s : s + 1], tol, max_iters)
            for s in range(S)
        ]

    looped, t_looped = timed(loop)
    # Same runs, same optimiser: identical up to the rounding of batched vs single matmuls
    # (which can steer a run to a different point of the same zero-loss manifold).
    looped_converged = sum(int(r.converged.sum()) for r in looped)
    assert looped_converged == int(batched.converged.sum()), f"{name}: convergence differs"
    dense_hessians(make_loss(slice(0, 1)), batched.theta[:1])  # warm-up
    _, h_batched = timed(lambda: dense_hessians(make_loss(everything), batched.theta))
    _, h_looped = timed(
        lambda: [
            dense_hessians(make_loss(slice(s, s + 1)), batched.theta[s : s + 1]) for s in range(S)
        ]
    )
    return [
        (f"{name}: L-BFGS, {S} seeds", t_batched, t_looped),
        (f"{name}: dense Hessians, {S} seeds", h_batched, h_looped),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-parts", action="store_true")
    parser.add_argument("--baseline", metavar="REV", help="git revision to compare the CLI with")
    parser.add_argument("--repeats", type=int, default=1, help="CLI runs per side")
    args = parser.parse_args()
    ctx = Context(seed=0)
    rows = compare("Soudry-Carmon N=60 d0=6 d1=20", *soudry_problem(ctx, args.seeds), tol=1e-8)
    rows += compare("teacher-student k=10", *teacher_problem(ctx, args.seeds), tol=1e-6)
    threads = torch.get_num_threads()
    print(f"| computation | batched | looped | speed-up | ({threads} torch threads, torch "
          f"{torch.__version__}) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, batched, looped in rows:
        print(f"| {name} | {batched:.2f} s | {looped:.2f} s | {looped / batched:.1f}x | |")
    if not args.skip_parts:
        parts()
    if not args.skip_cli:
        cli(args.baseline, args.repeats)


def parts() -> None:
    """CPU seconds of each sub-experiment's measurement at the default parameters."""
    from theorylab.claims.no_bad_minima import nguyen, safran, soudry
    from theorylab.registry import get_claim, make_params

    p = make_params(get_claim("no_bad_minima"), {})
    print("\n| sub-experiment (default, seed 0) | CPU |\n|---|---|")
    for name, module in (("Soudry-Carmon", soudry), ("Nguyen-Hein", nguyen),
                         ("Safran-Shamir", safran)):  # fmt: skip
        start = time.process_time()
        module.measure(p, Context(seed=0))
        print(f"| {name} | {time.process_time() - start:.2f} s |")


def cli(baseline: str | None, repeats: int) -> None:
    """The default claim end to end, this tree against ``baseline``, alternately."""
    import tempfile

    print("\n| `python -m theorylab.check no_bad_minima` | threads | CPU | wall | in claim |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", None)]
        if baseline:
            trees.insert(0, (f"revision {baseline}", git_tree(baseline, tmp)))
        for threads in (1, 2):
            for _ in range(repeats):
                for label, tree in trees:
                    cost = claim_cost("no_bad_minima", tree=tree, threads=threads)
                    row = f"| {label} (exit {cost['exit']}) | {threads} | {cost['cpu']:.1f} s "
                    print(row + f"| {cost['wall']:.1f} s | {cost['in_claim']} s |", flush=True)


if __name__ == "__main__":
    main()
