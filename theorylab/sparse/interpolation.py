"""Linear mode connectivity: the error along the segment between two trained networks.

Frankle, Dziugaite, Roy & Carbin (ICML 2020, Sec. 2): train two copies of a network from the
same weights theta_k with different data orders (SGD noise) to W1 and W2; the error barrier is

    max_{alpha in [0, 1]} E(alpha W1 + (1 - alpha) W2) - (E(W1) + E(W2)) / 2,

evaluated on a grid of alphas (they use 30; the check uses >= 21 evenly spaced, endpoints
included). A network is *stable* to SGD noise when the barrier is below about 2% error (their
threshold). Biases are interpolated like weights; both copies must share their masks (copies of
one ticket), so every point of the segment has that mask.

Example (errors 0.1 at both ends and 0.3 midway: barrier 0.2):
    >>> import torch
    >>> errors = torch.tensor([[0.1], [0.3], [0.1]], dtype=torch.float64)
    >>> [round(b, 12) for b in barrier(errors).tolist()]
    [0.2]
"""

from __future__ import annotations

import torch

from .masked_mlp import MaskedStack
from .training import evaluate

# Frankle et al. (2020), Sec. 2: "stable" when the barrier is below 2% error.
STABILITY_THRESHOLD = 0.02


def alpha_grid(points: int = 21) -> torch.Tensor:
    """``points`` evenly spaced alphas from 0 to 1 (float64)."""
    return torch.linspace(0.0, 1.0, points, dtype=torch.float64)


def interpolate(first: MaskedStack, second: MaskedStack, alpha: float) -> MaskedStack:
    """alpha * first + (1 - alpha) * second, member by member (masks must agree)."""
    for m1, m2 in zip(first.masks, second.masks, strict=True):
        if not torch.equal(m1, m2):
            raise ValueError("interpolated networks must share their masks")
    a = float(alpha)
    return MaskedStack(
        [a * w1 + (1 - a) * w2 for w1, w2 in zip(first.weights, second.weights, strict=True)],
        [a * b1 + (1 - a) * b2 for b1, b2 in zip(first.biases, second.biases, strict=True)],
        [m.clone() for m in first.masks],
    )


def error_curve(first: MaskedStack, second: MaskedStack, X: torch.Tensor, y: torch.Tensor,
                alphas: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """(A, P) classification error on (X, y) at each alpha (row 0: alpha = alphas[0])."""
    rows = []
    for a in alphas.tolist():
        _loss, acc = evaluate(interpolate(first, second, a), X, y)
        rows.append(1.0 - acc)
    return torch.stack(rows)


def barrier(errors: torch.Tensor) -> torch.Tensor:
    """(P,) max over the alpha grid of E(alpha) minus the mean of the two endpoint errors; the
    grid's first and last rows are the endpoints."""
    return errors.max(dim=0).values - 0.5 * (errors[0] + errors[-1])
