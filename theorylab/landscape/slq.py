"""Spectral density of the Hessian by stochastic Lanczos quadrature (SLQ).

For a unit probe u and m Lanczos steps from u, T_m = Q diag(theta) Q^T gives Gauss quadrature
nodes theta_j and weights w_j = Q_{0j}^2 with sum_j w_j theta_j^p = u^T H^p u for every
p <= 2m - 1 (Golub & Meurant, "Matrices, Moments and Quadrature", 2010). Averaging over
Rademacher probes u = z / sqrt(P), E[u^T f(H) u] = tr f(H) / P, so the measure
(1/probes) sum_probes sum_j w_j delta(lambda - theta_j) estimates the spectral measure
(1/P) sum_i delta(lambda - lambda_i) (Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl. 38, 2017;
used on neural-network Hessians by Ghorbani, Krishnan & Xiao, ICML 2019). A density for
plotting is that measure convolved with a Gaussian of width ``sigma``. The number of probes and
of Lanczos steps is part of every result, since both set its accuracy.

Example (H = diag(1, 2, 3, 4): three steps from a probe with all four eigen-components give
quadrature weights summing to 1 and the exact first moment mean(lambda) = 2.5):
    >>> import torch
    >>> d = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    >>> sd = slq_density(lambda v: d * v, 4, probes=1, steps=3, generator=torch.Generator())
    >>> round(float(sd.weights[0].sum()), 12), round(sd.moment(1), 12)
    (1.0, 2.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .. import curvature


@dataclass
class SpectralDensity:
    """Quadrature nodes and weights of each probe (lists of arrays: a probe whose Krylov space
    became invariant early has fewer nodes), with the settings that produced them."""

    nodes: list[np.ndarray]
    weights: list[np.ndarray]
    probes: int
    steps: int
    products: int

    def moment(self, p: int) -> float:
        """Estimate of tr(H^p) / P: mean over probes of sum_j w_j theta_j^p."""
        pairs = zip(self.nodes, self.weights, strict=True)
        return float(np.mean([np.sum(w * t**p) for t, w in pairs]))

    def density(self, grid: np.ndarray, sigma: float) -> np.ndarray:
        """(1/probes) sum_probes sum_j w_j N(grid; theta_j, sigma^2): integrates to 1."""
        grid = np.asarray(grid, dtype=np.float64)
        out = np.zeros_like(grid)
        for t, w in zip(self.nodes, self.weights, strict=True):
            z = (grid[:, None] - t[None, :]) / sigma
            out += (np.exp(-0.5 * z * z) * w[None, :]).sum(axis=1)
        return out / (self.probes * sigma * math.sqrt(2 * math.pi))

    def as_series(self) -> dict:
        return {
            "nodes": [t.tolist() for t in self.nodes],
            "weights": [w.tolist() for w in self.weights],
            "probes": self.probes,
            "steps": self.steps,
        }


def slq_density(
    apply: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    probes: int,
    steps: int,
    generator: torch.Generator,
    like=None,
) -> SpectralDensity:
    """SLQ with ``probes`` Rademacher probes and ``steps`` Lanczos steps each (full
    reorthogonalisation, :func:`theorylab.curvature.lanczos_tridiagonal`)."""
    if probes < 1 or steps < 1:
        raise ValueError(f"probes and steps must be >= 1, got {probes}, {steps}")
    dtype = torch.float64 if like is None else like.dtype
    device = "cpu" if like is None else like.device
    count = [0]

    def matvec(v: torch.Tensor) -> torch.Tensor:
        count[0] += 1
        return apply(v.to(device=device, dtype=dtype)).detach().to("cpu", torch.float64)

    nodes, weights = [], []
    for _ in range(probes):
        z = torch.randint(0, 2, (dim,), generator=generator, dtype=torch.int8).to(torch.float64)
        alpha, beta = curvature.lanczos_tridiagonal(matvec, 2.0 * z - 1.0, steps)
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, Q = np.linalg.eigh(T)
        nodes.append(theta)
        weights.append(Q[0, :] ** 2)
    return SpectralDensity(nodes, weights, probes, min(steps, dim), count[0])
