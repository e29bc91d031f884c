"""Benchmark for near_init's training loop (run: ``python benchmarks/near_init.py``).

Measures, side by side in one run on this machine:
1. the float64 matmul rate of a large square product (the machine's reference rate);
2. the achieved float64 FLOP rate of one GD step on the default bank (width ladder
   64..4096 x 2 initialisations, n = 100, d = 50), trackers included, as a fraction of (1);
3. batched (one NeuronBank for every network) versus looped (one bank per network, run back
   to back) training time for the same networks and steps;
4. the wall time of ``python -m theorylab.check near_init --width 4096``, start-up included.
Warm-up runs are excluded from every timing. Results are printed as a Markdown table.
"""

from __future__ import annotations

import subprocess
import sys
import time

import torch
from timing import best_of

from theorylab.claims.near_init import Params
from theorylab.nets.two_layer import NeuronBank
from theorylab.runtime import Context
from theorylab.train import gradient_descent

torch.set_default_dtype(torch.float64)


def matmul_rate(size=2048) -> float:
    A = torch.randn(size, size)
    B = torch.randn(size, size)
    return 2 * size**3 / best_of(lambda: A @ B)


def make_banks(params: Params, ctx: Context, n: int, d: int):
    weights, signs = [], []
    for replica in range(params.inits):
        for width in params.ladder:
            weights.append(ctx.randn(width, d, stream=f"init/{replica}/{width}"))
            signs.append(torch.sign(ctx.randn(width, stream=f"signs/{replica}/{width}")))
    batched = NeuronBank.build(weights, signs, "ntk")
    looped = [NeuronBank.build([w], [a], "ntk") for w, a in zip(weights, signs, strict=True)]
    return batched, looped


def measure(params: Params, ctx: Context, reference: float, steps: int = 100) -> str:
    """One Markdown row: achieved GD-step rate and batched-vs-looped time for ``params``."""
    n, d, eta = 100, 50, 0.5
    X = ctx.randn(n, d, stream="data")
    X = X / X.norm(dim=1, keepdim=True)
    y = ctx.randn(n, stream="labels")
    batched, looped = make_banks(params, ctx, n, d)
    units, networks = batched.W.shape[0], batched.n_networks
    t_batched = best_of(
        lambda: gradient_descent(batched, X, y, torch.full((units,), eta), steps), repeats=2
    )
    # Per step: X W^T and coef^T X (2 n d M each) plus the two thin readout products (2 n M G).
    flops_per_step = 2 * (2 * n * d * units) + 2 * (2 * n * units * networks)
    achieved = flops_per_step * steps / t_batched
    t_looped = best_of(
        lambda: [
            gradient_descent(b, X, y, torch.full((b.W.shape[0],), eta), steps) for b in looped
        ],
        repeats=2,
    )
    return (
        f"| ladder {params.ladder} x {params.inits} inits ({networks} networks, {units} units) "
        f"| {achieved / 1e9:.1f} GFLOP/s = {achieved / reference:.2f} of matmul rate "
        f"| {t_batched:.2f} s vs {t_looped:.2f} s: {t_looped / t_batched:.2f}x |"
    )


def main() -> None:
    ctx = Context(seed=0)
    reference = matmul_rate()
    rows = [
        measure(Params(), ctx, reference),  # the default run's ladder
        measure(Params(width=256, rungs=3, inits=16), ctx, reference),  # many small networks
    ]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "theorylab.check", "near_init", "--width", "4096", "--quiet"],
        check=False,
    )
    cli = time.perf_counter() - start

    threads = torch.get_num_threads()
    print(f"float64 matmul rate (2048^2): {reference / 1e9:.1f} GFLOP/s; {threads} torch threads,")
    print(f"torch {torch.__version__}; 100 GD steps, n = 100, d = 50, trackers on.")
    print()
    print("| networks | achieved rate of one GD step | batched vs looped (speed-up) |")
    print("|---|---|---|")
    print("\n".join(rows))
    print()
    command = "`python -m theorylab.check near_init --width 4096`"
    print(f"{command}: {cli:.1f} s wall, start-up included.")


if __name__ == "__main__":
    main()
