"""Gradient descent on an underdetermined consistent least-squares problem, in closed form.

Setting: A (n x d) of rank r < d, b in range(A) (the system A x = b is consistent), the sum loss
L(x) = 1/2 ||A x - b||^2 and GD x_{k+1} = x_k - eta A^T (A x_k - b) from x_0. With the thin SVD
A = U diag(s) V^T (s_i > 0, i <= r) and coordinates c = V^T x, each coordinate follows the
scalar recurrence c_{k+1} = c_k - eta s (s c_k - beta) with beta = (U^T b)_i, whose solution is

    c_k = beta/s + (1 - eta s^2)^k (c_0 - beta/s)          (``ITERATE_COEFFICIENT``);

the component of x_0 orthogonal to the row space never moves (A^T r lies in the row space).
Hence, for 0 < eta < 2/s_max^2 (``STEP_SIZE_LIMIT``), every |1 - eta s_i^2| < 1 and

    x_k -> pinv(A) b + (I - pinv(A) A) x_0,

the minimum-norm solution when x_0 = 0 (the "Ax = b slide" of the over-parameterization
literature; e.g. Zhang et al. ICLR 2017 Sec. 5, Gunasekar et al. NeurIPS 2017). Mini-batch SGD
keeps the same invariant, (I - pinv(A) A)(x_k - x_0) = 0, since every stochastic gradient
A_B^T r_B also lies in the row space; coordinate-wise adaptive methods (Adam) do not
(Wilson, Roelofs, Stern, Srebro, Recht, NeurIPS 2017).

Example (one direction, s = 1, beta = 2, c_0 = 0, eta = 1/2: c_1 = 1):
    >>> float(ITERATE_COEFFICIENT.subs({s: 1, beta: 2, c0: 0, eta: sp.Rational(1, 2), k: 1}))
    1.0
"""

from __future__ import annotations

import sympy as sp
import torch

s, beta, c0, eta = sp.symbols("s beta c_0 eta", real=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
s_max = sp.Symbol("s_max", positive=True)

CONTRACTION = 1 - eta * s**2
ITERATE_COEFFICIENT = beta / s + CONTRACTION**k * (c0 - beta / s)
STEP_SIZE_LIMIT = 2 / s_max**2

# CONTRACTION is plain arithmetic, so the "math" lambdification also works on tensors.
_contraction = sp.lambdify((eta, s), CONTRACTION, modules="math")
_step_size_limit = sp.lambdify(s_max, STEP_SIZE_LIMIT, modules="math")


def step_size_limit(largest_singular_value: float) -> float:
    """2 / s_max^2: GD on 1/2||Ax - b||^2 converges for 0 < eta below this and not above it.

    >>> step_size_limit(2.0)
    0.5
    """
    return float(_step_size_limit(largest_singular_value))


def row_space_rank(singular_values: torch.Tensor, rtol: float | None = None) -> int:
    """Numerical rank: singular values above rtol * s_max (default max(n, d) * eps)."""
    if singular_values.numel() == 0:
        return 0
    if rtol is None:
        rtol = torch.finfo(singular_values.dtype).eps * 64
    return int((singular_values > rtol * singular_values[0]).sum())


def min_norm_limit(A: torch.Tensor, b: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    """pinv(A) b + (I - pinv(A) A) x0, via the SVD (the limit of GD and SGD from x0).

    >>> A, b = torch.tensor([[1.0, 1.0]]).double(), torch.tensor([2.0]).double()
    >>> x = min_norm_limit(A, b, torch.zeros(2, dtype=A.dtype))
    >>> [round(v, 12) for v in x.tolist()]
    [1.0, 1.0]
    """
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    r = row_space_rank(S)
    U, S, Vh = U[:, :r], S[:r], Vh[:r]
    particular = Vh.T @ ((U.T @ b) / S)
    return particular + x0 - Vh.T @ (Vh @ x0)


def gd_iterates(
    A: torch.Tensor, b: torch.Tensor, x0: torch.Tensor, eta_value: float, steps: int
) -> torch.Tensor:
    """x_0, ..., x_steps of GD on 1/2||Ax - b||^2 from the SVD closed form, all at once.

    Returns (steps + 1, d): x_k = limit + V diag((1 - eta s^2)^k) V^T (x_0 - limit), which is
    ``ITERATE_COEFFICIENT`` in every row-space direction and constant in the null space.
    """
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    r = row_space_rank(S)
    Vh, S = Vh[:r], S[:r]
    limit = min_norm_limit(A, b, x0)
    ks = torch.arange(steps + 1, dtype=A.dtype, device=A.device)
    powers = _contraction(eta_value, S)[None, :] ** ks[:, None]  # (K, r)
    offset = Vh @ (x0 - limit)  # (r,): only row-space coordinates differ from the limit
    return limit[None, :] + (powers * offset[None, :]) @ Vh
