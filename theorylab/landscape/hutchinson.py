"""Trace of the Hessian: Hutchinson's estimator with its standard error, or exact.

Hutchinson (1989): for a probe z with E[z z^T] = I, E[z^T H z] = tr H. With m independent
Rademacher probes (entries +-1), the estimate is the mean of q_j = z_j^T H z_j and its
standard error the sample standard deviation of the q_j over sqrt(m); Var q = 2 (||H||_F^2 -
sum_i H_ii^2) for Rademacher probes (Avron & Toledo, J. ACM 58, 2011), so the error shrinks as
1/sqrt(m) and vanishes for a diagonal H. The exact trace sum_i e_i^T H e_i costs P products
(batched), affordable for small models; :func:`trace` picks it below ``exact_below``
parameters.

Example (H = diag(1, 2, 3): the exact route gives 6; every Rademacher probe gives 6 too,
since z^T H z = sum_i H_ii z_i^2 for a diagonal H):
    >>> import torch
    >>> d = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    >>> exact_trace(lambda V: V * d, 3).value
    6.0
    >>> est = hutchinson_trace(lambda V: V * d, 3, probes=5, generator=torch.Generator())
    >>> est.value, est.se
    (6.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import Inconclusive

BatchedApply = Callable[[torch.Tensor], torch.Tensor]  # V (m, P) -> rows H V_i


@dataclass
class TraceEstimate:
    """tr H: ``value`` with standard error ``se`` (0 for the exact route), ``probes`` used
    (0 for exact), ``products`` Hessian-vector products, ``method`` "exact" or "hutchinson"."""

    value: float
    se: float
    probes: int
    products: int
    method: str


def _checked(rows: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(rows).all()):
        raise Inconclusive("the curvature operator returned non-finite values")
    return rows


def exact_trace(apply: BatchedApply, dim: int, chunk: int = 256, like=None) -> TraceEstimate:
    """sum_i e_i^T H e_i from P batched unit-vector products (exact up to rounding)."""
    dtype = torch.float64 if like is None else like.dtype
    device = "cpu" if like is None else like.device
    total = 0.0
    for lo in range(0, dim, chunk):
        hi = min(dim, lo + chunk)
        E = torch.zeros(hi - lo, dim, dtype=dtype, device=device)
        idx = torch.arange(hi - lo)
        E[idx, idx + lo] = 1.0
        total += float(_checked(apply(E))[idx, idx + lo].sum())
    return TraceEstimate(total, 0.0, 0, dim, "exact")


def hutchinson_trace(
    apply: BatchedApply,
    dim: int,
    probes: int,
    generator: torch.Generator,
    chunk: int = 32,
    like=None,
) -> TraceEstimate:
    """Mean of z_j^T H z_j over ``probes`` Rademacher probes drawn from ``generator`` (CPU),
    with standard error std(q) / sqrt(probes) (nan for one probe)."""
    if probes < 1:
        raise ValueError(f"probes must be >= 1, got {probes}")
    dtype = torch.float64 if like is None else like.dtype
    device = "cpu" if like is None else like.device
    q = []
    for lo in range(0, probes, chunk):
        m = min(chunk, probes - lo)
        Z = torch.randint(0, 2, (m, dim), generator=generator, dtype=torch.int8)
        Z = (2.0 * Z.to(torch.float64) - 1.0).to(device=device, dtype=dtype)
        q.append((Z * _checked(apply(Z))).sum(dim=1).to("cpu", torch.float64))
    values = torch.cat(q)
    se = float(values.std(unbiased=True)) / math.sqrt(probes) if probes > 1 else math.nan
    return TraceEstimate(float(values.mean()), se, probes, probes, "hutchinson")


def trace(
    apply: BatchedApply,
    dim: int,
    probes: int,
    generator: torch.Generator,
    exact_below: int = 2048,
    like=None,
) -> TraceEstimate:
    """Exact trace when dim <= ``exact_below`` (P products), else Hutchinson (``probes``)."""
    if dim <= exact_below:
        return exact_trace(apply, dim, like=like)
    return hutchinson_trace(apply, dim, probes, generator, like=like)
