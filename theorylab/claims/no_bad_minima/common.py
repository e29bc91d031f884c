"""Settings shared by the three sub-experiments of no_bad_minima."""

from __future__ import annotations

# Bytes a dense-Hessian chunk may use (forward intermediates of chunk_size directions).
HESSIAN_MEMORY = 2**28
L_BFGS_HISTORY = 10


def hessian_chunk(floats_per_direction: float) -> int:
    """Hessian columns per batched pass so that one pass stays within HESSIAN_MEMORY."""
    return max(1, int(HESSIAN_MEMORY / (8 * 12 * max(floats_per_direction, 1.0))))
