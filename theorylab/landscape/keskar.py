"""Keskar et al.'s epsilon-sharpness (ICLR 2017, "On Large-Batch Training for Deep Learning:
Generalization Gap and Sharp Minima", Metric 2.1, full space A = I).

    C_eps = { z : |z_i| <= eps (|x_i| + 1) for every i },
    phi_{x,f}(eps) = 100 (max_{z in C_eps} f(x + z) - f(x)) / (1 + f(x)).

The box scales with each weight's magnitude (plus 1, so zero weights may move). The maximum
over the box is approximated, as in the paper, by L-BFGS-B (``scipy.optimize.minimize`` on
-f(x + z) with the box as bounds) for a few iterations, so phi is a lower bound of the true
maximum. At a minimum the gradient vanishes and L-BFGS-B started at z = 0 would stop at once;
the search therefore also starts from a seeded uniform point of the box and keeps the larger
value (both reported).

Example (f = 1/2 (t_0^2 + 3 t_1^2) at x = 0, eps = 0.1: the box is [-0.1, 0.1]^2 and the
maximum is at a corner, 1/2 (1 + 3) 0.01 = 0.02, so phi = 100 * 0.02 / 1 = 2):
    >>> import torch
    >>> f = lambda t: 0.5 * (t[0] ** 2 + 3 * t[1] ** 2)
    >>> r = epsilon_sharpness(f, torch.zeros(2, dtype=torch.float64), 0.1,
    ...                       generator=torch.Generator().manual_seed(0))
    >>> round(r.phi, 10)
    2.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import Inconclusive

ITERATIONS = 10  # Keskar et al.: "we perform 10 iterations of L-BFGS-B"


@dataclass
class EpsilonSharpness:
    """phi in percent, with f(x), the largest f(x + z) found, the box size eps and the
    function evaluations L-BFGS-B spent (both starts together)."""

    phi: float
    eps: float
    loss: float
    max_loss: float
    evaluations: int
    from_zero: float  # phi of the run started at z = 0
    from_random: float  # phi of the run started at a random point of the box
    z: torch.Tensor  # the perturbation reaching max_loss (inside the box)


def phi(max_loss: float, loss: float) -> float:
    """100 (max f - f(x)) / (1 + f(x)): Keskar et al.'s normalisation."""
    return 100.0 * (max_loss - loss) / (1.0 + loss)


def epsilon_sharpness(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    eps: float = 1e-3,
    iterations: int = ITERATIONS,
    generator: torch.Generator | None = None,
) -> EpsilonSharpness:
    """phi_{x,f}(eps) at x = ``theta`` for f = ``loss_fn`` (box C_eps, L-BFGS-B)."""
    from scipy.optimize import minimize

    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    x = theta.detach()
    radius = (eps * (x.abs() + 1.0)).to("cpu", torch.float64).numpy()
    count = [0]

    def negative(z: np.ndarray):
        count[0] += 1
        t = (x + torch.as_tensor(z, dtype=x.dtype, device=x.device)).requires_grad_(True)
        with torch.enable_grad():
            value = loss_fn(t)
            (g,) = torch.autograd.grad(value, t)
        value = float(value.detach())
        if not np.isfinite(value):
            raise Inconclusive(f"the loss is not finite inside the epsilon box ({value})")
        return -value, -g.detach().to("cpu", torch.float64).numpy()

    base = -negative(np.zeros_like(radius))[0]
    bounds = list(zip((-radius).tolist(), radius.tolist(), strict=True))
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    u = torch.rand(radius.size, generator=gen, dtype=torch.float64).numpy() * 2.0 - 1.0
    found, points = [], []
    for z0 in (np.zeros_like(radius), u * radius):
        result = minimize(
            negative,
            z0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": iterations},
        )
        found.append(max(-float(result.fun), base))
        points.append(result.x if -float(result.fun) >= base else np.zeros_like(radius))
    best = max(found)
    z = torch.as_tensor(points[int(np.argmax(found))], dtype=x.dtype, device=x.device)
    return EpsilonSharpness(
        phi=phi(best, base),
        eps=eps,
        loss=base,
        max_loss=best,
        evaluations=count[0],
        from_zero=phi(found[0], base),
        from_random=phi(found[1], base),
        z=z,
    )
