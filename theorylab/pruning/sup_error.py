"""The sup error sup_{||x|| <= 1} |f_hat(x) - f(x)| of a pruned network, measured.

Both networks are positively homogeneous (no biases), so the supremum over the ball is attained
on the unit sphere. The search: evaluate a large random test set (uniform on the sphere), then
refine the ``starts`` worst points by gradient ascent on |f_hat - f| along the sphere (the
gradient projected on the tangent space, normalised; a step is accepted only if it increases the
error, and grows by 1.5, otherwise it halves), keeping the largest value ever evaluated. The
result is a lower estimate of the true supremum that the ascent can only increase.

Example (|x_1| on the circle has supremum 1):
    >>> import torch
    >>> from theorylab.runtime import Context
    >>> f = lambda x: x[:, :1]
    >>> g = lambda x: 0 * x[:, :1]
    >>> round(sup_error(f, g, 2, Context(), test_points=64, ascent_steps=50).value, 6)
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..runtime import Context


@dataclass
class SupError:
    value: float  # max over every evaluated point
    test_set_max: float  # max over the random test set alone
    point: torch.Tensor  # where the maximum was found


def sphere_points(n: int, d: int, ctx: Context, stream: str) -> torch.Tensor:
    """n points uniform on the unit sphere S^{d-1}."""
    x = ctx.randn(n, d, stream=stream)
    return x / x.norm(dim=1, keepdim=True)


def sup_error(f, f_hat, d: int, ctx: Context, test_points: int = 20000, ascent_steps: int = 200,
              starts: int = 32, step: float = 0.05, chunk: int = 4096) -> SupError:  # fmt: skip
    """Max of |f_hat - f| over a random test set on the sphere, refined by gradient ascent."""
    x = sphere_points(test_points, d, ctx, "sup_error/test_set")
    with torch.no_grad():
        err = torch.cat([(f_hat(c) - f(c)).abs().amax(dim=1) for c in x.split(chunk)])
    test_max, best_idx = err.max(dim=0)
    best_value, best_point = float(test_max), x[best_idx].clone()
    top = torch.topk(err, min(starts, test_points)).indices
    z, value = x[top].clone(), err[top].clone()
    lr = torch.full_like(value, step)
    for _ in range(ascent_steps):
        with torch.enable_grad():
            z.requires_grad_(True)
            e = (f_hat(z) - f(z)).abs().amax(dim=1)
            (grad,) = torch.autograd.grad(e.sum(), z)
        with torch.no_grad():
            tangent = grad - (grad * z).sum(dim=1, keepdim=True) * z  # stay on the sphere
            tangent = tangent / tangent.norm(dim=1, keepdim=True).clamp_min(1e-300)
            trial = z + lr[:, None] * tangent
            trial = trial / trial.norm(dim=1, keepdim=True)
            trial_value = (f_hat(trial) - f(trial)).abs().amax(dim=1)
            better = trial_value > value
            # accept improving steps (and grow them), halve the step of the others
            z = torch.where(better[:, None], trial, z.detach())
            value = torch.where(better, trial_value, value)
            lr = torch.where(better, lr * 1.5, lr / 2)
    best, idx = value.max(dim=0)
    if float(best) > best_value:
        best_value, best_point = float(best), z[idx].clone()
    return SupError(best_value, float(test_max), best_point)
