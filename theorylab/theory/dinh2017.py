"""Dinh, Pascanu, Bengio & Bengio, "Sharp Minima Can Generalize For Deep Nets", ICML 2017.

For a two-layer ReLU network f(x) = W2 relu(W1 x + b1) + b2 and a > 0, relu(a z) = a relu(z)
gives the reparametrisation T_a: (W1, b1, W2, b2) -> (a W1, a b1, W2 / a, b2), which leaves
f, and so every loss value, unchanged. Writing u = S theta with S = diag(a on the first
layer, 1/a on W2, 1 on b2), L'(u) = L(S^{-1} u), so at corresponding points

    H' = S^{-1} H S^{-1},   H'_{ij} = H_{ij} / (S_i S_j):

the first-layer block is multiplied by a^{-2}, the W2 block by a^2, the (first, W2) cross
block by a^{-1} a = 1 and the (first, b2) block by a^{-1}. lambda_max(H') is therefore
not invariant: lambda_max(H') >= a^2 lambda_max(H_{W2 W2}) (Cauchy interlacing on the W2
block) grows without bound as a grows, while the function does not change. A sharpness
measure alone cannot be a generalisation measure without fixing the parametrisation.

``BLOCK_EXPONENT`` holds the power of a by which each group's Hessian *block* is multiplied:
-2 (first layer), +2 (W2), 0 (b2); :func:`block_scale` evaluates it.

Example (a = 10: the W2 block of the Hessian grows 100-fold, the first layer's shrinks):
    >>> block_scale(10.0, "first"), block_scale(10.0, "second"), block_scale(10.0, "bias2")
    (0.01, 100.0, 1.0)
"""

from __future__ import annotations

import sympy as sp
import torch

a = sp.symbols("a", positive=True)

# parameter scale of each group under T_a (u = S theta)
PARAMETER_SCALE = {"first": a, "second": 1 / a, "bias2": sp.Integer(1)}
# Hessian block (group, group) scale: 1 / S^2
BLOCK_EXPONENT = {g: sp.simplify(sp.log(1 / s**2) / sp.log(a)) for g, s in PARAMETER_SCALE.items()}

_scale = {g: sp.lambdify(a, s, modules="math") for g, s in PARAMETER_SCALE.items()}
_block = {g: sp.lambdify(a, a**e, modules="math") for g, e in BLOCK_EXPONENT.items()}


def parameter_scale(a_value: float, group: str) -> float:
    """S for a parameter of ``group`` ("first", "second", "bias2") under T_a."""
    return float(_scale[group](a_value))


def block_scale(a_value: float, group: str) -> float:
    """Factor multiplying the (group, group) Hessian block under T_a: 1 / S^2 = a^exponent."""
    return float(_block[group](a_value))


def rescaled_hessian(H: torch.Tensor, groups: list[str], a_value: float) -> torch.Tensor:
    """S^{-1} H S^{-1} for the per-parameter ``groups``: the Hessian at T_a(theta) predicted
    from the Hessian at theta. The diagonal blocks use :func:`block_scale` and the cross
    blocks the geometric mean of the two groups' block factors (1 / (S_i S_j))."""
    per_group = {g: block_scale(a_value, g) ** 0.5 for g in set(groups)}
    factor = torch.tensor([per_group[g] for g in groups], dtype=H.dtype)
    return H * factor[:, None] * factor[None, :]
