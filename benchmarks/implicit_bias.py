"""Benchmark for implicit_bias and memorization (run: ``python benchmarks/implicit_bias.py``).

Measures, side by side in one run on this machine (warm-up runs excluded, best of 3):
1. the diagonal-net GD of implicit_bias: all (alpha, eta) columns of the default run in one
   batched loop (``train_diagonal`` with P columns) versus one call per column, back to back,
   for the same number of steps;
2. the GD closed form for every iterate (``min_norm.gd_iterates``, one SVD and one matmul)
   versus the plain GD loop it is checked against;
3. memorization's four random-label tasks trained as one batch of networks (bmm) versus four
   separate trainings, for the same number of Adam steps;
4. the wall time of ``python -m theorylab.check implicit_bias`` and ``... memorization`` with
   default parameters, start-up included.
Results are printed as a Markdown table (ratios are looped / batched).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time

import torch
from timing import best_of

from theorylab.claims import implicit_bias, memorization
from theorylab.runtime import Context
from theorylab.theory import min_norm

STEPS = 2000


def diagonal_columns():
    p, ctx = implicit_bias.Params(), Context(seed=0)
    A, b, _, _ = implicit_bias.make_system(p, ctx)
    alphas = torch.logspace(-2, 1, p.path_points + p.step_ladder, dtype=torch.float64)
    curvature = 8 * float(torch.linalg.matrix_norm(A, ord=2)) ** 2 * alphas.clamp_min(1) ** 2
    etas = 0.1 / curvature
    # tol = 0 so that every column runs exactly STEPS steps in both variants.
    batched = lambda: implicit_bias.train_diagonal(A, b, alphas, etas, 0.0, STEPS)  # noqa: E731

    def looped():
        for j in range(alphas.numel()):
            implicit_bias.train_diagonal(A, b, alphas[j : j + 1], etas[j : j + 1], 0.0, STEPS)

    return alphas.numel(), best_of(batched), best_of(looped)


def closed_form_vs_loop():
    p, ctx = implicit_bias.Params(), Context(seed=0)
    A, b, _, x0 = implicit_bias.make_system(p, ctx)
    eta = 1.0 / float(torch.linalg.matrix_norm(A, ord=2)) ** 2

    def loop():
        x = x0
        for _ in range(STEPS):
            x = x - eta * (A.T @ (A @ x - b))

    return best_of(lambda: min_norm.gd_iterates(A, b, x0, eta, STEPS)), best_of(loop)


def memorization_tasks(steps=100):
    p, ctx = memorization.Params(steps=steps), Context(seed=0)
    Xtr, ytr, _, _ = memorization.build_tasks(p, ctx)

    def train(X, y):
        T, h, k = X.shape[0], p.width, memorization.DIGITS_CLASSES
        W1 = (torch.randn(T, X.shape[2], h, dtype=X.dtype) / 8).requires_grad_()
        W2 = (torch.randn(T, h, k, dtype=X.dtype) / math.sqrt(h)).requires_grad_()
        opt = torch.optim.Adam([W1, W2], lr=p.lr)
        for _ in range(steps):
            out = torch.relu(X.bmm(W1)).bmm(W2)
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, k), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()

    batched = best_of(lambda: train(Xtr, ytr), repeats=2)
    looped = best_of(lambda: [train(Xtr[t : t + 1], ytr[t : t + 1]) for t in range(4)], 2)
    return batched, looped


def cli_wall(claim):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "theorylab.check", claim, "--quiet"], check=False)
    return time.perf_counter() - start


def main() -> None:
    columns, diag_batched, diag_looped = diagonal_columns()
    closed, loop = closed_form_vs_loop()
    mem_batched, mem_looped = memorization_tasks()
    rows = [
        (f"diagonal-net GD, {columns} columns x {STEPS} steps", diag_batched, diag_looped),
        (f"min-norm GD, {STEPS} iterates: closed form vs loop", closed, loop),
        ("memorization, 4 tasks x 100 Adam steps", mem_batched, mem_looped),
    ]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("| measurement | batched / closed form (s) | looped (s) | ratio |")
    print("|---|---|---|---|")
    for name, fast, slow in rows:
        print(f"| {name} | {fast:.3f} | {slow:.3f} | {slow / fast:.1f}x |")
    for claim in ("implicit_bias", "memorization"):
        print(f"| `python -m theorylab.check {claim}` (defaults, start-up included) | "
              f"{cli_wall(claim):.1f} | | |")  # fmt: skip


if __name__ == "__main__":
    main()
