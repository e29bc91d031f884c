"""Wu, Ma & E's linear-stability verdict for a minimum at a given step size and batch size
(NeurIPS 2018, "How SGD Selects the Global Minima in Over-parameterized Learning").

At a minimum x* of L = (1/n) sum_i f_i with f_i(x*) = 0 (interpolation), SGD with step eta and
batches of B drawn without replacement is linearly stable in one dimension iff
(1 - eta a)^2 + eta^2 c_B s^2 <= 1, c_B = (n - B) / (B (n - 1)), where a = lambda_max(H) is
the sharpness and s = sqrt(lambda_max(Sigma)), Sigma = (1/n) sum_i H_i^2 - H^2, the
non-uniformity. Both terms must be at most 1:

    a <= 2 / eta,        s <= sqrt(B (n - 1) / (n - B)) / eta

(the closed forms live in :mod:`theorylab.theory.wu2018`). The first is exact for GD; the
second is necessary in one dimension and approximately so in more (Wu et al.), which the
statement's detail says. A point that is not an interpolating minimum gets the same numbers,
with hypotheses saying how far it is from one.

Sigma v is computed without forming any H_i: per-sample Hessian-vector products H_i w_i for a
chunk of samples at once (``torch.func`` vmap over single-sample losses, forward-over-reverse),
two passes over the data for Sigma v = (1/n) sum_i H_i (H_i v - H v) when one chunk holds all
samples, three otherwise (H v first, then each chunk's H_i v again).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import curvature
from ..report import Statement
from ..theory import wu2018


def sigma_operator(
    rowwise_losses, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor, chunk: int = 256
):
    """v -> Sigma v for per-sample losses ``rowwise_losses(Xc, yc)(Theta)`` (rows of Theta at
    the samples of (Xc, yc)), in chunks of ``chunk`` samples."""
    n = X.shape[0]
    parts = []
    for lo in range(0, n, chunk):
        Xc, yc = X[lo : lo + chunk], y[lo : lo + chunk]
        fn = rowwise_losses(Xc, yc)
        parts.append(
            curvature.per_sample_hvp_fn(
                lambda T, fn=fn, Xc=Xc, yc=yc: fn(T, Xc, yc), theta, Xc.shape[0]
            )
        )
    if len(parts) == 1:
        return curvature.sigma_vector_product_fn(parts[0])

    def sigma_v(v: torch.Tensor) -> torch.Tensor:
        hv = sum(p(v).sum(dim=0) for p in parts) / n
        out = torch.zeros_like(v)
        for p in parts:
            out = out + p(p(v) - hv).sum(dim=0)
        return out / n

    return sigma_v


@dataclass
class StabilityVerdict:
    sharpness: float
    nonuniformity: float | None
    lr: float
    batch_size: int
    n: int

    @property
    def sharpness_bound(self) -> float:
        return wu2018.sharpness_bound(self.lr)

    @property
    def nonuniformity_bound(self) -> float:
        return wu2018.nonuniformity_bound(self.lr, self.n, self.batch_size)

    def statements(self) -> list[Statement]:
        out = [
            Statement.at_most(
                "sharpness_condition",
                "lambda_max(H) <= 2/eta (Wu, Ma & E 2018: GD/SGD linear stability)",
                self.sharpness,
                self.sharpness_bound,
                detail=f"eta = {self.lr:g}; the Hessian of the mean loss the optimiser uses",
            )
        ]
        if self.batch_size < self.n and self.nonuniformity is not None:
            out.append(
                Statement.at_most(
                    "nonuniformity_condition",
                    "s <= sqrt(B (n-1)/(n-B)) / eta (Wu, Ma & E 2018; exact in 1-D, "
                    "approximate in more dimensions)",
                    self.nonuniformity,
                    self.nonuniformity_bound,
                    detail=f"eta = {self.lr:g}, B = {self.batch_size}, n = {self.n}; "
                    "s = sqrt(lambda_max((1/n) sum_i H_i^2 - H^2))",
                )
            )
        return out
