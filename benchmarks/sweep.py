"""Sweep overhead: the same near_init cells back to back in one process, through the local
process pool, and through a Dask LocalCluster, measured side by side in one run.

    OMP_NUM_THREADS=1 python benchmarks/sweep.py [--seeds 8] [--steps 300] [--out PATH]

Cells: 6 widths (64 ... 2048) x 8 seeds of near_init with rungs=2, inits=1, n=40, d=10. The
reference is ``theorylab.check`` called for every cell in this process after one warm-up call
(imports and first-call costs excluded), with one torch thread like a sweep worker. Each sweep
writes a fresh store, so its time includes starting the workers, moving the cells and reports
between processes, and one committed SQLite transaction per cell. The aim is an overhead within
1.3x of the back-to-back time for the single-worker pool; with more workers the pool should be
faster than the reference on a machine with idle cores.

The last column sums the time each cell spent inside ``check`` in its worker (from the store):
the wall time minus that sum divided by the workers is the sweep's own overhead, a figure that
stays meaningful when other processes load the machine and the wall times drift.

Writes a Markdown table to ``--out`` (default benchmarks/results_sweep.md) and prints it.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import torch

from theorylab.registry import check
from theorylab.store import Store
from theorylab.sweep import build_cells, local_dask_cluster, run_sweep

WIDTHS = [64, 128, 256, 512, 1024, 2048]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel runs")
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results_sweep.md")
    )
    args = parser.parse_args()
    fixed = dict(rungs=2, inits=1, steps=args.steps, n=40, d=10, kernel_samples=2000)
    grid = {"width": WIDTHS, **{k: [v] for k, v in fixed.items()}}
    cells = build_cells("near_init", grid, range(args.seeds))
    load = os.getloadavg()[0]

    torch.set_num_threads(1)
    check("near_init", seed=0, **{**fixed, "width": WIDTHS[0]})  # warm-up

    def back_to_back() -> float:
        start = time.perf_counter()
        for cell in cells:
            check(cell.claim, seed=cell.seed, **dict(cell.values))
        return time.perf_counter() - start

    serial = back_to_back()
    rows = [("back to back in one process (reference)", serial, None, 1)]
    runs = [
        ("local pool, 1 worker (cold: starts the fork server)", "local", 1),
        ("local pool, 1 worker", "local", 1),
        (f"local pool, {args.workers} workers", "local", args.workers),
    ]
    with tempfile.TemporaryDirectory() as tmp:

        def sweep(j: int, executor: str, workers: int, scheduler: str | None = None) -> float:
            with Store(os.path.join(tmp, f"run{j}.sqlite")) as store:
                start = time.perf_counter()
                outcome = run_sweep(
                    cells, store, executor=executor, workers=workers, scheduler=scheduler,
                    quiet=True,
                )  # fmt: skip
                elapsed = time.perf_counter() - start
                compute = sum(r.duration_s for r in store.rows())
            assert outcome.done == len(cells) and outcome.failed == 0, outcome.line()
            return elapsed, compute

        for j, (label, executor, workers) in enumerate(runs):
            rows.append((label, *sweep(j, executor, workers), workers))
        try:
            import distributed
        except ImportError:
            distributed = None
        if distributed is not None:
            start = time.perf_counter()
            cluster = local_dask_cluster(args.workers)
            label = f"(Dask LocalCluster start, {args.workers} workers)"
            rows.append((label, time.perf_counter() - start, None, 1))
            try:
                address = cluster.scheduler_address
                label = f"Dask LocalCluster, {args.workers} workers (first sweep: workers import)"
                rows.append((label, *sweep(10, "dask", args.workers, address), args.workers))
                label = f"Dask LocalCluster, {args.workers} workers (warm workers)"
                rows.append((label, *sweep(11, "dask", args.workers, address), args.workers))
            finally:
                cluster.close()
    rows.append(("back to back in one process, again (noise check)", back_to_back(), None, 1))

    lines = [
        f"near_init sweep: {len(WIDTHS)} widths x {args.seeds} seeds = {len(cells)} cells "
        f"(rungs=2, inits=1, steps={args.steps}, n=40, d=10); {os.cpu_count()} CPUs, load "
        f"average {load:.1f} at start; Python {platform.python_version()}, torch "
        f"{torch.__version__}.",
        "",
        "| run | wall time (s) | ratio to back to back | cells' own time, summed (s) "
        "| overhead: wall - own / workers (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, elapsed, compute, workers in rows:
        own = "" if compute is None else f"{compute:.2f}"
        overhead = "" if compute is None else f"{elapsed - compute / workers:.2f}"
        lines.append(f"| {label} | {elapsed:.2f} | {elapsed / serial:.2f} | {own} | {overhead} |")
    lines += [
        "",
        "Reading: the ratio column compares wall times and drifts with whatever else runs on "
        "the machine (compare the two back-to-back rows); the overhead column (wall time minus "
        "the cells' own time per worker) is the sweep's cost: worker start-up, moving cells "
        "and reports between processes, one committed SQLite transaction per cell. The cold "
        "row adds the fork server's one-time import of torch and the claim.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
