"""Cohen, Kaur, Li, Kolter, Talwalkar, "Gradient Descent on Neural Networks Typically Occurs at
the Edge of Stability", ICLR 2021 (arXiv:2103.00065).

Closed forms used by the sgd_stability claim:

- ``CHEBYSHEV_TARGET``: the regression target y = T_k(x) (Chebyshev polynomial of the first
  kind, degree k = 4 in their 1-D experiment: T_4(x) = 8x^4 - 8x^2 + 1) on points evenly spaced
  in [-1, 1].
- ``EDGE``: 2/eta, the sharpness at which GD on a quadratic stops being stable; their finding
  is that the sharpness of full-batch GD rises to it (progressive sharpening) and then hovers
  at it while the loss keeps decreasing non-monotonically.

Example:
    >>> X, y = chebyshev_problem(3)
    >>> X[:, 0].tolist(), y.tolist()
    ([-1.0, 0.0, 1.0], [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import sympy as sp
import torch

x, eta = sp.symbols("x eta", real=True)
DEGREE = 4
CHEBYSHEV_TARGET = sp.expand(sp.chebyshevt(DEGREE, x))
EDGE = 2 / eta

_target = sp.lambdify(x, CHEBYSHEV_TARGET, modules="math")


def chebyshev_problem(points: int, degree: int = DEGREE) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (points, 1) evenly spaced on [-1, 1] and labels T_degree(x) (float64, CPU)."""
    grid = torch.linspace(-1.0, 1.0, points, dtype=torch.float64)
    target = _target if degree == DEGREE else sp.lambdify(x, sp.chebyshevt(degree, x), "math")
    y = torch.tensor([float(target(float(v))) for v in grid], dtype=torch.float64)
    return grid[:, None], y
