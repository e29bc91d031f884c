"""Curvature of a loss: Hessian-vector products, extreme eigenpairs, non-uniformity, Gram matrices.

The curvature is that of exactly the loss the optimiser differentiates. In the claims it is the
*mean* of per-sample losses, L(theta) = (1/n) sum_i f_i(theta) (Wu, Ma & E 2018; Cohen et al.
2021); the sum loss would multiply every curvature below by n. Callers pass ``loss_fn(theta)``
(the mean loss) and ``sample_losses_fn(Theta)`` (f_i evaluated at row i of Theta (n, P));
:func:`from_sample_loss` builds both from a per-sample ``sample_loss(theta, x_i, y_i)``.

- Hessian-vector product H v = d/de grad L(theta + e v) |_{e=0}: forward-over-reverse
  (``torch.func.jvp`` of ``torch.func.grad``), one product costs about two gradients and never
  forms H.
- Extreme eigenpairs: implicitly restarted Lanczos (ARPACK ``scipy.sparse.linalg.eigsh``) on a
  ``LinearOperator`` with ``which="LA"`` (largest algebraic: the sharpness a = lambda_max(H),
  not the largest |lambda| that power iteration finds) or ``which="SA"`` (smallest algebraic).
- Non-uniformity (Wu et al. 2018): Sigma = (1/n) sum_i H_i^2 - H^2, s = sqrt(lambda_max(Sigma)),
  by Lanczos on v -> Sigma v = (1/n) sum_i H_i (H_i v - H v) (the centred form: the mean of
  H_i v - H v is zero, so no separate H^2 v is needed), with the per-sample products vectorised
  by ``torch.func.vmap``.
- Dense references (full Hessian and per-sample Hessians by ``torch.func.hessian``) for tiny
  models; the tests check the Lanczos results against them to 1e-6 relative.
- Output Jacobian J (n, P) and the Gram (empirical NTK) matrix J J^T.

Example (quadratic L = (1/n) sum_i 1/2 (x_i . theta)^2 has H = X^T X / n):
    >>> import torch
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> loss, _ = from_sample_loss(lambda t, x, y: 0.5 * (x @ t - y) ** 2, X, torch.zeros(2))
    >>> round(hessian_eigenpairs(loss, torch.zeros(2, dtype=torch.float64)).value, 12)
    2.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from torch.func import grad, hessian, jacrev, jvp, vmap

from .errors import Inconclusive

WHICH = ("LA", "SA")
SampleLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class EigenResult:
    """k eigenpairs of a symmetric operator, best first (largest for "LA", smallest for "SA").

    ``residuals[j]`` = ||A v_j - lambda_j v_j|| (unit v_j), ``products`` counts the operator
    applications the solver made (the residual check adds k more, not counted).
    """

    values: list[float]
    vectors: torch.Tensor  # (P, k), unit columns, sign fixed (largest |entry| positive)
    residuals: list[float]
    products: int

    @property
    def value(self) -> float:
        return self.values[0]

    @property
    def vector(self) -> torch.Tensor:
        return self.vectors[:, 0]


def from_sample_loss(sample_loss: SampleLoss, X: torch.Tensor, y: torch.Tensor):
    """(loss_fn, sample_losses_fn) for a per-sample loss ``sample_loss(theta, x_i, y_i)``.

    loss_fn(theta) = (1/n) sum_i f_i(theta) (the mean loss); sample_losses_fn(Theta) evaluates
    f_i at the i-th row of Theta (n, P), both through ``torch.func.vmap``. Models that batch
    natively (:mod:`theorylab.nets.mlp`) pass their own, cheaper, functions instead.
    """
    per_sample = vmap(sample_loss, in_dims=(None, 0, 0))
    rowwise = vmap(sample_loss, in_dims=(0, 0, 0))
    return (lambda theta: per_sample(theta, X, y).mean()), (lambda Theta: rowwise(Theta, X, y))


def hvp_fn(loss_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor):
    """v -> H v, H the Hessian of ``loss_fn`` at ``theta``: jvp of grad (forward-over-reverse).

    Example (L = 1/2 (t_0^2 + 2 t_1^2) has H = diag(1, 2)):
        >>> t = torch.zeros(2, dtype=torch.float64)
        >>> hv = hvp_fn(lambda p: 0.5 * (p[0] ** 2 + 2 * p[1] ** 2), t)
        >>> hv(torch.tensor([3.0, 4.0], dtype=torch.float64)).tolist()
        [3.0, 8.0]
    """
    gradient = grad(loss_fn)
    return lambda v: jvp(gradient, (theta,), (v,))[1]


def per_sample_hvp_fn(
    sample_losses_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, n: int
):
    """W (n, P) -> (n, P) with row i = H_i W_i (H_i the Hessian of f_i at ``theta``).

    One forward-over-reverse product for all samples at once: the gradient of
    sum_i f_i(Theta_i) with respect to Theta (n, P) has rows grad f_i(Theta_i), so its jvp at
    Theta_i = theta with tangent W has rows H_i W_i. A (P,) argument is broadcast to every row.
    """
    Theta = theta.expand(n, -1).contiguous()  # jvp needs its own storage, not a broadcast
    gradient = grad(lambda T: sample_losses_fn(T).sum())

    def apply(W):
        W = W.expand(n, -1).contiguous() if W.dim() == 1 else W
        return jvp(gradient, (Theta,), (W,))[1]

    return apply


def sigma_vector_product_fn(per_sample_apply: Callable[[torch.Tensor], torch.Tensor]):
    """v -> Sigma v = (1/n) sum_i H_i (H_i v - H v), Sigma = (1/n) sum_i H_i^2 - H^2.

    ``per_sample_apply(W)`` returns the rows H_i W_i for W (n, P) (and H_i v for v (P,)), e.g.
    :func:`per_sample_hvp_fn` or a model's own batched products. Two vectorised passes; the
    centred form needs no separate H^2 v because the rows H_i v - H v average to zero.
    """

    def sigma_v(v):
        first = per_sample_apply(v)  # (n, P): H_i v
        return per_sample_apply(first - first.mean(dim=0)).mean(dim=0)  # H v = mean_i H_i v

    return sigma_v


def sigma_vector_product_loop_fn(sample_loss: SampleLoss, theta, X, y):
    """The same operator, one sample at a time with ``torch.func`` on f_i(theta, x_i, y_i): the
    unvectorised baseline of benchmarks/curvature.py."""
    hvps = [
        hvp_fn(lambda p, x=x, t=t: sample_loss(p, x, t), theta) for x, t in zip(X, y, strict=True)
    ]

    def sigma_v(v):
        first = torch.stack([h(v) for h in hvps])
        centred = first - first.mean(dim=0)
        return torch.stack([h(c) for h, c in zip(hvps, centred, strict=True)]).mean(dim=0)

    return sigma_v


def default_start(dim: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Deterministic Lanczos start vector (a fixed-seed Gaussian, not the global RNG)."""
    gen = torch.Generator(device="cpu").manual_seed(20180611)
    return torch.randn(dim, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)


def eigenpairs(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    k: int = 1,
    which: str = "LA",
    tol: float = 1e-12,
    v0: torch.Tensor | None = None,
    ncv: int | None = None,
    maxiter: int | None = None,
    like: torch.Tensor | None = None,
) -> EigenResult:
    """k extreme eigenpairs of the symmetric operator ``matvec`` on R^dim (ARPACK Lanczos).

    ``which``: "LA" largest algebraic, "SA" smallest algebraic. ``tol`` is ARPACK's relative
    residual tolerance (0 means machine precision). ``like`` sets the dtype/device of the
    vectors handed to ``matvec`` (default float64 CPU). Raises Inconclusive when Lanczos does
    not converge within ``maxiter`` restarts or the operator returns non-finite values.

    Example (diag(3, -5, 1): "LA" gives 3, "SA" gives -5; power iteration would give -5):
        >>> d = torch.tensor([3.0, -5.0, 1.0], dtype=torch.float64)
        >>> eigenpairs(lambda v: d * v, 3, which="LA").value, eigenpairs(lambda v: d * v, 3,
        ...     which="SA").value
        (3.0, -5.0)
    """
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    if not 1 <= k <= dim:
        raise ValueError(f"k must be in 1..{dim}, got {k}")
    dtype = torch.float64 if like is None else like.dtype
    device = "cpu" if like is None else like.device
    count = [0]

    def apply(block: np.ndarray) -> np.ndarray:
        V = torch.as_tensor(np.ascontiguousarray(block), dtype=torch.float64)
        V = V.to(device=device, dtype=dtype)
        cols = [matvec(V[:, j]) for j in range(V.shape[1])] if V.dim() == 2 else [matvec(V)]
        count[0] += len(cols)
        out = torch.stack(cols, dim=-1) if V.dim() == 2 else cols[0]
        out = out.detach().to("cpu", torch.float64).numpy()
        if not np.isfinite(out).all():
            raise Inconclusive("the curvature operator returned non-finite values")
        return out

    if dim <= max(2 * k + 1, 8):  # tiny operators: dense eigh of the explicit matrix
        A = apply(np.eye(dim))
        w, U = np.linalg.eigh(0.5 * (A + A.T))
        order = np.argsort(-w) if which == "LA" else np.argsort(w)
        values, vectors = w[order[:k]], U[:, order[:k]]
    else:
        start = default_start(dim) if v0 is None else v0.detach().to("cpu", torch.float64)
        # A Krylov space of max(2k + 2, 8) vectors (ARPACK's default is 20): on a well-separated
        # top eigenvalue ARPACK then stops after ~9 products instead of 21; restarts keep it
        # convergent on clustered spectra (benchmarks/results_curvature.md).
        ncv = min(dim - 1, max(2 * k + 2, 8)) if ncv is None else ncv
        op = LinearOperator((dim, dim), matvec=apply, matmat=apply, dtype=np.float64)
        try:
            values, vectors = eigsh(
                op, k=k, which=which, tol=tol, v0=start.numpy(), ncv=ncv, maxiter=maxiter
            )
        except ArpackNoConvergence as exc:
            raise Inconclusive(f"Lanczos ({which}, k={k}) did not converge: {exc}") from None
        order = np.argsort(-values) if which == "LA" else np.argsort(values)
        values, vectors = values[order], vectors[:, order]
    products = count[0]
    vectors = vectors / np.linalg.norm(vectors, axis=0, keepdims=True)
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    residuals = np.linalg.norm(apply(vectors) - vectors * values, axis=0)
    return EigenResult(
        values=[float(v) for v in values],
        vectors=torch.as_tensor(vectors, dtype=dtype).to(device),
        residuals=[float(r) for r in residuals],
        products=products,
    )


def hessian_eigenpairs(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    k: int = 1,
    which: str = "LA",
    **kwargs,
) -> EigenResult:
    """Extreme eigenpairs of the Hessian of ``loss_fn`` at ``theta`` (Lanczos on H v)."""
    return eigenpairs(hvp_fn(loss_fn, theta), theta.numel(), k=k, which=which, like=theta, **kwargs)


@dataclass
class NonUniformity:
    """s = sqrt(lambda_max(Sigma)) with the Lanczos result it came from."""

    s: float
    eigen: EigenResult


def nonuniformity(
    per_sample_apply: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    like: torch.Tensor | None = None,
    **kwargs,
) -> NonUniformity:
    """Wu et al.'s non-uniformity s = sqrt(lambda_max((1/n) sum_i H_i^2 - H^2)) by Lanczos
    (which="LA") on :func:`sigma_vector_product_fn` of ``per_sample_apply``.

    Sigma is positive semi-definite (a covariance of the H_i), so lambda_max >= 0 up to
    rounding; a slightly negative value is clamped to 0.
    """
    eigen = eigenpairs(sigma_vector_product_fn(per_sample_apply), dim, like=like, **kwargs)
    return NonUniformity(s=float(np.sqrt(max(eigen.value, 0.0))), eigen=eigen)


def dense_hessian(loss_fn: Callable[[torch.Tensor], torch.Tensor], theta) -> torch.Tensor:
    """Full (P, P) Hessian (tiny models only: the dense reference path)."""
    return hessian(loss_fn)(theta)


def dense_sample_hessians(sample_loss: SampleLoss, theta, X, y) -> torch.Tensor:
    """(n, P, P) per-sample Hessians H_i (tiny models only)."""
    return vmap(lambda x, t: hessian(lambda p: sample_loss(p, x, t))(theta))(X, y)


def dense_sigma(sample_hessians: torch.Tensor) -> torch.Tensor:
    """Sigma = (1/n) sum_i H_i^2 - H^2 from stacked H_i (n, P, P)."""
    H = sample_hessians.mean(dim=0)
    return (sample_hessians @ sample_hessians).mean(dim=0) - H @ H


def output_jacobian(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], theta, X):
    """J (n, P) with J_i = grad_theta f(x_i; theta), for ``model(theta, X) -> (n,)`` outputs."""
    return jacrev(lambda p: model(p, X))(theta)


def gram_matrix(jacobian: torch.Tensor) -> torch.Tensor:
    """Empirical NTK Gram matrix K = J J^T (n, n); for the half-mean-square loss at an
    interpolating minimum H = J^T J / n, whose non-zero spectrum is that of K / n."""
    return jacobian @ jacobian.T
