"""lr_over_batch: online SGD on linear regression reaches the stationary error
d eta s2 / (B (2 - eta) - eta (d + 1)) (:mod:`theorylab.theory.linear_sgd`, Isserlis), a
function of eta / B to first order (Jastrzebski et al. 2017).

Measured by Monte-Carlo: ``chains`` independent SGD runs per (eta, B) grid point, all at once,
each started at w = w* (e = 0), run ``burn_in`` steps (the distance of E||e||^2 to its fixed
point contracts by (1 - 2 eta + eta^2 (1 + (d+1)/B)) per step: below 1e-5 of it after the
default 300 steps at eta = 0.02) and then averaged over ``window`` steps. The chains are
independent, so the standard error of the mean of their time averages needs no
autocorrelation correction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...runtime import Context


@dataclass
class LinearSGDMeasurement:
    grid: list[tuple[float, int]]
    mean: list[float]  # E||w - w*||^2 estimate per grid point
    se: list[float]
    d: int
    noise: float


def measure(p, ctx: Context) -> LinearSGDMeasurement:
    d, s2, R = p.dim, p.noise, p.chains
    means, ses = [], []
    for j, (eta, B) in enumerate(p.grid_points):
        gen = ctx.generator(f"linear_sgd_{j}")
        e = torch.zeros(R, d, dtype=torch.float64)
        total = torch.zeros(R, dtype=torch.float64)
        for t in range(p.burn_in + p.window):
            X = torch.randn(R, B, d, generator=gen, dtype=torch.float64)
            xi = torch.randn(R, B, generator=gen, dtype=torch.float64) * math.sqrt(s2)
            residual = torch.einsum("rbd,rd->rb", X, e) - xi  # x.w - y with y = x.w* + xi
            e = e - (eta / B) * torch.einsum("rbd,rb->rd", X, residual)
            if t >= p.burn_in:
                total += (e * e).sum(dim=1)
        per_chain = total / p.window
        means.append(float(per_chain.mean()))
        ses.append(float(per_chain.std(unbiased=True)) / math.sqrt(R))
    return LinearSGDMeasurement(list(p.grid_points), means, ses, d, s2)
