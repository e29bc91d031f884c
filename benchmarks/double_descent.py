"""Benchmark for double_descent's Monte-Carlo core (run: ``python benchmarks/double_descent.py``).

Measures, side by side in one run on this machine:
1. batched (all R designs of one ladder point stacked, one batched eigensolve of the smaller
   Gram matrix, :func:`theorylab.claims.double_descent.spectra`) versus looped (one design at
   a time through the same function, back to back) time for the conditional risks of the
   default ladder point p = 2n and p = n/2 (n = 200, R = 100);
2. the same two paths through torch.linalg.pinv per design (the naive estimator: form
   pinv(X), then ||pinv(X) X beta - beta||^2 + s2 ||pinv(X)||_F^2), as a reference;
3. the wall time of ``python -m theorylab.check double_descent`` (default parameters),
   start-up included, and with ``--no-trained-net``.
The batched and looped results are compared to 1e-9 relative (same numbers, different cost).
Warm-up runs are excluded from the timings. Results are printed as a Markdown table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import torch
from timing import best_of

from theorylab.claims.double_descent import spectra, unit_direction
from theorylab.runtime import Context


def batched(X, beta, s2):
    return spectra(X, beta).risk(s2)


def looped(X, beta, s2):
    return torch.cat([spectra(X[r : r + 1], beta).risk(s2) for r in range(X.shape[0])])


def pinv_looped(X, beta, s2):
    out = []
    for r in range(X.shape[0]):
        B = torch.linalg.pinv(X[r])
        out.append((B @ X[r] @ beta - beta).pow(2).sum() + s2 * B.pow(2).sum())
    return torch.stack(out)


def cli_seconds(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "theorylab.check", "double_descent", "--quiet", *args],
        check=False, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    ctx = Context(seed=0)
    n, designs, s2 = 200, 100, 0.25
    rows = ["| case | batched (s) | looped (s) | loop / batched | pinv loop (s) |",
            "|---|---|---|---|---|"]  # fmt: skip
    for p in (n // 2, 2 * n):
        X = ctx.randn(designs, n, p, stream=f"bench/{p}")
        beta = unit_direction(ctx, p, 1.0, f"bench/beta/{p}")
        a, b, c = batched(X, beta, s2), looped(X, beta, s2), pinv_looped(X, beta, s2)
        assert torch.allclose(a, b, rtol=1e-9) and torch.allclose(a, c, rtol=1e-9)
        t_batched = best_of(lambda X=X, beta=beta: batched(X, beta, s2))
        t_looped = best_of(lambda X=X, beta=beta: looped(X, beta, s2))
        t_pinv = best_of(lambda X=X, beta=beta: pinv_looped(X, beta, s2), repeats=1)
        rows.append(
            f"| n = {n}, p = {p}, R = {designs} | {t_batched:.3f} | {t_looped:.3f} | "
            f"{t_looped / t_batched:.2f} | {t_pinv:.3f} |"
        )
    print("\n".join(rows))
    print()
    print(f"CLI default run (start-up included): {cli_seconds():.1f} s")
    print(f"CLI --no-trained-net: {cli_seconds('--no-trained-net'):.1f} s")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
