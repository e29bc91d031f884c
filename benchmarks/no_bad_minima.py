"""Benchmark for no_bad_minima (run: ``python benchmarks/no_bad_minima.py [--seeds 16]``).

Measures, side by side in one run on this machine, batched (all seeds of a width as one
computation: stacked parameters, one autograd pass, per-run L-BFGS state) against looped (the
same optimiser called once per seed with a batch of one) for:

1. L-BFGS to the claim's gradient tolerance on the Soudry-Carmon net at d0 d1 = 2N (N = 60,
   d0 = 6, d1 = 20; every run converges there, so both sides do the same work per run);
2. the same on the teacher-student population loss at student width k = 10;
3. dense Hessians (forward-over-reverse, vmapped over directions) at the final points;
4. the wall time of ``python -m theorylab.check no_bad_minima`` (defaults, start-up included).

Both sides must converge on the same runs (asserted); warm-up calls are excluded; the table is
printed as Markdown.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time

import torch

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
    if not args.skip_cli:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "theorylab.check", "no_bad_minima", "--quiet"], check=False
        )
        cli = time.perf_counter() - start
        print(
            f"| `python -m theorylab.check no_bad_minima` | {cli:.1f} s | | | start-up included |"
        )


if __name__ == "__main__":
    main()
