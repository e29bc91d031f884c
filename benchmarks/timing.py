"""Shared timing helper for the benchmark scripts (run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import time


def best_of(fn, repeats: int = 3) -> float:
    """Best wall time of ``repeats`` calls of ``fn``, after one untimed warm-up call."""
    fn()  # warm-up, excluded
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def claim_cost(claim: str, args=(), tree: str | None = None, threads: int = 1) -> dict:
    """CPU seconds (user + sys of the child process) and wall seconds of
    ``python -m theorylab.check CLAIM ARGS --quiet`` run from ``tree`` (a directory holding a
    theorylab checkout; default: the installed package), with ``threads`` torch threads; the
    report's timing.total_s is returned as well. Comparing CPU seconds side by side keeps the
    comparison fair on a machine other jobs load (wall times are reported too)."""
    import json
    import os
    import resource
    import subprocess
    import sys
    import tempfile

    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if tree is not None:
        env["PYTHONPATH"] = tree
    with tempfile.TemporaryDirectory() as out:
        path = os.path.join(out, "report.json")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "theorylab.check", claim, *args, "--quiet", "--json", path],
            env=env, cwd=tree or None, capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.load(open(path)) if os.path.exists(path) else {}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu": cpu, "wall": wall, "exit": proc.returncode,
            "in_claim": report.get("timing", {}).get("total_s")}  # fmt: skip


def git_tree(revision: str, directory: str) -> str:
    """Extract ``revision`` of the repository this file belongs to into ``directory``."""
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    archive = subprocess.run(["git", "-C", root, "archive", revision], capture_output=True,
                             check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", directory], input=archive, check=True)
    return directory
