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
