"""Wu, Zhu & E, "Towards Understanding Generalization of Deep Learning: Perspective of Loss
Landscapes" (ICML 2017 workshop, arXiv 1706.10239).

Near a minimum the loss is ~ 1/2 z^T H z, so the set {L <= L* + delta} is an ellipsoid whose
volume is proportional to prod_i lambda_i^{-1/2}: flat minima have large basins, and the
authors argue that these attract optimisers and generalise. With a cutoff c for the many
eigenvalues near zero (whose directions would give an infinite volume), the log-volume
(up to an additive constant) is

    log V = -1/2 sum_{lambda_i > c} log(lambda_i / c),

computed here from the eigenvalues given (the top-k of a Lanczos run: those below c add 0).

Example (eigenvalues 4, 1 and a zero, cutoff 1: -1/2 log 4 = -log 2):
    >>> round(log_volume([4.0, 1.0, 0.0], 1.0), 12)
    -0.69314718056
"""

from __future__ import annotations

import math


def log_volume(eigenvalues, cutoff: float) -> float:
    """-1/2 sum over eigenvalues above ``cutoff`` of log(lambda / cutoff)."""
    return -0.5 * sum(math.log(v / cutoff) for v in eigenvalues if v > cutoff)
