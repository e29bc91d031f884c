"""Explicit error propagation through a pruned network, layer pair by layer pair.

If every gadget of layer pair i has sup_{|x|<=1} |g(x) - w x| <= e_i, the gadget is within
e_i |z| of w z at any input z (the error is linear in |z|). With the true activations z_{i-1},
the coordinatewise error delta_{i-1} of the pruned network's activations, and
:data:`theorylab.theory.pensia2020.PROPAGATION_STEP`,

    delta_i,j <= e_i (||z_{i-1}||_1 + ||delta_{i-1}||_1) + (|W_i| delta_{i-1})_j,   delta_0 = 0,

and relu, being 1-Lipschitz, does not increase it. :func:`pointwise_bound` evaluates this at
given inputs (|f_hat(x) - f(x)| <= delta_L(x), exact, not only first order);
:func:`uniform_bound` replaces ||z_i||_1 by its supremum sqrt(d_i) over the unit ball
(||z_i||_2 <= ||x||_2 <= 1 for operator norms <= 1); :func:`per_weight_tolerance` solves
uniform_bound = eps for one e shared by all layers. For L = 2 these are
TWO_LAYER_BOUND / TWO_LAYER_UNIFORM_BOUND / TWO_LAYER_TOLERANCE of the theory module.

Example (one layer, d = 4: the bound is e ||x||_1 <= e sqrt(4)):
    >>> import torch
    >>> from theorylab.pruning.target import TargetNetwork
    >>> t = TargetNetwork([torch.full((1, 4), 0.5, dtype=torch.float64)])
    >>> uniform_bound(t, [0.01])
    0.02
"""

from __future__ import annotations

import math

import torch

from ..errors import Inconclusive
from ..theory import pensia2020
from .target import TargetNetwork


def pointwise_bound(target: TargetNetwork, layer_errors, x: torch.Tensor) -> torch.Tensor:
    """delta_L(x) for each row of x, with per-layer gadget errors e_i; (N,)."""
    zs = target.activations(x)
    delta = torch.zeros_like(x)
    for i, W in enumerate(target.weights):
        z_norm = zs[i].abs().sum(dim=1, keepdim=True)
        delta_norm = delta.abs().sum(dim=1, keepdim=True)
        step = pensia2020.propagation_step(
            float(layer_errors[i]), z_norm, delta_norm, delta @ W.abs().T
        )
        # (N, d_i) whatever terms the step keeps (a step without |W| delta is (N, 1))
        delta = torch.as_tensor(step, dtype=x.dtype, device=x.device).expand(x.shape[0], W.shape[0])
    return delta.amax(dim=1)


def uniform_bound(target: TargetNetwork, layer_errors) -> float:
    """sup over the unit ball of the propagation bound, with ||z_i||_1 <= sqrt(d_i)."""
    dims = target.dims
    delta = torch.zeros(dims[0], dtype=torch.float64)
    for i, W in enumerate(target.weights):
        W = W.detach().cpu().to(torch.float64)
        delta = pensia2020.propagation_step(
            float(layer_errors[i]), math.sqrt(dims[i]), float(delta.sum()), W.abs() @ delta
        )
        delta = torch.as_tensor(delta, dtype=torch.float64).expand(dims[i + 1])
    return round(float(delta.max()), 15)


def per_weight_tolerance(target: TargetNetwork, eps: float) -> float:
    """The e with uniform_bound(target, [e] * L) = eps (bisection; the bound increases in e).

    A bound that stays below eps for every e up to 2^64 eps (a bound with no term in e) has no
    such root: Inconclusive, never a crash or an infinite tolerance.
    """
    lo, hi = 0.0, eps
    while uniform_bound(target, [hi] * target.depth) < eps:
        lo, hi = hi, 2 * hi
        if hi > 2.0**64 * eps:
            raise Inconclusive(
                "the propagation bound does not reach eps for any per-weight error: no "
                "per-weight tolerance exists"
            )
    for _ in range(200):
        mid = (lo + hi) / 2
        if uniform_bound(target, [mid] * target.depth) <= eps:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return lo
