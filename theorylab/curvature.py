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

import dataclasses
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

    ``residuals[j]`` = ||A v_j - lambda_j v_j|| (unit v_j; for the Lanczos engine the Ritz
    residual beta_j |e_j^T y|, exact up to rounding, at no extra product), ``errors[j]`` the
    estimate of |lambda_j - true eigenvalue| the solver stopped on, ``products`` the operator
    applications the solver made.
    """

    values: list[float]
    vectors: torch.Tensor  # (P, k), unit columns, sign fixed (largest |entry| positive)
    residuals: list[float]
    products: int
    errors: list[float] = dataclasses.field(default_factory=list)  # eigenvalue error estimates

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


def hvp_fn(
    loss_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, method: str = "graph"
):
    """v -> H v, H the Hessian of ``loss_fn`` at ``theta``.

    ``method="graph"`` (default): the gradient g(theta) is computed once with
    ``create_graph=True`` and every product is one backward pass through that graph,
    H v = d(g . v)/d theta (Pearlmutter 1994, "Fast exact multiplication by the Hessian"): no
    forward pass and no first backward pass are repeated, which makes a product 2-6x cheaper
    than forward-over-reverse on small models (benchmarks/results_curvature.md). The graph is
    held until the returned function is dropped. ``method="jvp"``: forward-over-reverse
    (``torch.func.jvp`` of ``torch.func.grad``), each product redoing the forward and backward
    passes; kept for losses whose gradient graph cannot be differentiated again.

    Example (L = 1/2 (t_0^2 + 2 t_1^2) has H = diag(1, 2)):
        >>> t = torch.zeros(2, dtype=torch.float64)
        >>> hv = hvp_fn(lambda p: 0.5 * (p[0] ** 2 + 2 * p[1] ** 2), t)
        >>> hv(torch.tensor([3.0, 4.0], dtype=torch.float64)).tolist()
        [3.0, 8.0]
    """
    if method == "jvp":
        gradient = grad(loss_fn)
        return lambda v: jvp(gradient, (theta,), (v,))[1]
    if method != "graph":
        raise ValueError(f"method must be 'graph' or 'jvp', got {method!r}")
    return _GraphHVP(loss_fn, theta)


class _GraphHVP:
    """Hessian-vector products by double backward on a gradient graph built once.

    ``self(v)`` for v (P,) gives H v; ``self.batched(V)`` for V (m, P) gives the rows H V_i in
    one vectorised backward pass (``is_grads_batched``, i.e. ``torch.vmap`` over the
    backward), falling back to a loop where an operator has no batching rule.
    """

    def __init__(self, loss_fn, theta):
        with torch.enable_grad():
            self.leaf = theta.detach().clone().requires_grad_(True)
            self.loss = loss_fn(self.leaf)
            (self.gradient,) = torch.autograd.grad(self.loss, self.leaf, create_graph=True)
        # A loss at most linear in theta has a gradient that does not depend on it: H = 0.
        self.constant = not self.gradient.requires_grad
        self.batched_ok = True

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        if self.constant:
            return torch.zeros_like(self.leaf)
        (hv,) = torch.autograd.grad(
            self.gradient, self.leaf, v.to(self.leaf.dtype), retain_graph=True, allow_unused=True
        )
        return torch.zeros_like(self.leaf) if hv is None else hv.detach()

    def batched(self, V: torch.Tensor) -> torch.Tensor:
        if self.constant:
            return torch.zeros_like(V)
        if self.batched_ok:
            try:
                (HV,) = torch.autograd.grad(
                    self.gradient, self.leaf, V.to(self.leaf.dtype), retain_graph=True,
                    is_grads_batched=True, allow_unused=True,
                )  # fmt: skip
                return torch.zeros_like(V) if HV is None else HV.detach()
            except RuntimeError:  # an operator without a batching rule for its backward
                self.batched_ok = False
        return torch.stack([self(v) for v in V])


def batched_hvp_fn(loss_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor):
    """V (m, P) -> (m, P) with rows H V_i: many Hessian-vector products in one vectorised
    double-backward pass on a gradient graph built once (see :func:`hvp_fn`).

    Example (H = diag(1, 2)):
        >>> t = torch.zeros(2, dtype=torch.float64)
        >>> hv = batched_hvp_fn(lambda p: 0.5 * (p[0] ** 2 + 2 * p[1] ** 2), t)
        >>> hv(torch.eye(2, dtype=torch.float64)).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    return _GraphHVP(loss_fn, theta).batched


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
    method: str = "lanczos",
) -> EigenResult:
    """k extreme eigenpairs of the symmetric operator ``matvec`` on R^dim.

    ``which``: "LA" largest algebraic, "SA" smallest algebraic. ``tol``: relative accuracy of
    the eigenvalues (0 means machine precision). ``like`` sets the dtype/device of the vectors
    handed to ``matvec`` (default float64 CPU). Raises Inconclusive when the solver does not
    converge within ``maxiter`` restarts or the operator returns non-finite values.

    ``method="lanczos"`` (default): thick-restart Lanczos with full reorthogonalisation
    (:func:`lanczos_eigenpairs`), stopped as soon as every wanted Ritz value's error estimate
    is below ``tol`` relative: no fixed minimum number of products and no extra products for
    the residuals. ``method="arpack"``: ARPACK's implicitly restarted Lanczos
    (``scipy.sparse.linalg.eigsh``, ``tol`` its relative residual tolerance) with a Krylov space
    of max(2k + 2, 8) vectors, plus k products to measure the residuals (the earlier engine,
    kept for comparison in benchmarks/curvature.py).

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
    if method not in ("lanczos", "arpack"):
        raise ValueError(f"method must be 'lanczos' or 'arpack', got {method!r}")
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
        residuals = np.linalg.norm(A @ vectors - vectors * values, axis=0)
        errors = residuals
    elif method == "lanczos":
        start = default_start(dim) if v0 is None else v0.detach().to("cpu", torch.float64)

        def apply_torch(v: torch.Tensor) -> torch.Tensor:
            out = matvec(v.to(device=device, dtype=dtype))
            count[0] += 1
            out = out.detach().to("cpu", torch.float64)
            if not bool(torch.isfinite(out).all()):
                raise Inconclusive("the curvature operator returned non-finite values")
            return out

        found = lanczos_eigenpairs(apply_torch, dim, k, which, tol, start, ncv, maxiter)
        values, vectors = found.values, found.vectors
        residuals, errors = found.residuals, found.errors
    else:
        start = default_start(dim) if v0 is None else v0.detach().to("cpu", torch.float64)
        # A Krylov space of max(2k + 2, 8) vectors (ARPACK's default is 20): on a well-separated
        # top eigenvalue ARPACK then stops after ~9 products instead of 21.
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
        vectors = vectors / np.linalg.norm(vectors, axis=0, keepdims=True)
        products = count[0]
        residuals = np.linalg.norm(apply(vectors) - vectors * values, axis=0)
        count[0] = products
        errors = residuals
    products = count[0]
    vectors = vectors / np.linalg.norm(vectors, axis=0, keepdims=True)
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    return EigenResult(
        values=[float(v) for v in values],
        vectors=torch.as_tensor(vectors, dtype=dtype).to(device),
        residuals=[float(r) for r in residuals],
        products=products,
        errors=[float(e) for e in errors],
    )


@dataclass
class _Ritz:
    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    errors: np.ndarray


# Below this many machine epsilons times ||A|| an eigenvalue cannot be resolved in floating
# point (the Lanczos residuals stall near sqrt(steps) eps ||A||): the absolute error floor of
# the stopping test.
_FLOOR_EPS = 1e3


def lanczos_eigenpairs(
    apply: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    k: int,
    which: str = "LA",
    tol: float = 1e-12,
    start: torch.Tensor | None = None,
    ncv: int | None = None,
    maxiter: int | None = None,
) -> _Ritz:
    """Thick-restart Lanczos with full reorthogonalisation (Wu & Simon, SIAM J. Matrix Anal.
    Appl. 22, 2000) on a float64 CPU operator ``apply``.

    The basis V_j is kept orthonormal by classical Gram-Schmidt applied twice, and the projected
    matrix T_j = V_j^T A V_j is filled column by column from those coefficients, so after a
    thick restart (the ``keep`` best Ritz vectors and the last residual direction become the
    new basis, T an arrowhead) the same loop goes on. With A V_j = V_j T_j + beta_j v_{j+1}
    e_j^T, the Ritz pair (theta_i, V_j y_i) has residual r_i = beta_j |e_j^T y_i| exactly (in
    exact arithmetic), at no extra product. Its eigenvalue error is at most r_i, and at most
    r_i^2 / gap_i by the Kato-Temple inequality, gap_i the distance to the rest of the spectrum,
    estimated from the other Ritz values as min_j (|theta_i - theta_j| - r_j) (each interval
    [theta_j - r_j, theta_j + r_j] holds an eigenvalue). The run stops when every wanted
    error estimate min(r_i, r_i^2 / gap_i) is below max(tol |theta_i|, 1e3 eps ||A||).

    Like every single-vector Krylov method it sees one copy of an eigenvalue of multiplicity
    m > 1 in a Krylov space; when the space becomes invariant (as it does for such spectra,
    e.g. diagonal or block-structured operators) the run goes on from a random vector
    orthogonal to the basis and stops only once such a fresh segment tops out below the k-th
    wanted value, so repeated eigenvalues are found with all their copies.
    """
    sign = 1.0 if which == "LA" else -1.0
    tol = max(float(tol), float(np.finfo(np.float64).eps))
    m = ncv if ncv is not None else max(2 * k + 2, min(40 + k, 2**28 // (8 * dim)))
    m = int(min(dim, max(m, k + 2)))
    keep_count = min(m - 1, k + max(1, (m - k) // 2))
    maxiter = 10 * max(dim // max(m - keep_count, 1), 1) + 100 if maxiter is None else maxiter
    V = torch.zeros(m + 1, dim, dtype=torch.float64)  # rows: contiguous basis vectors
    T = np.zeros((m + 1, m + 1))
    v = torch.randn(dim, dtype=torch.float64) if start is None else start.clone()
    V[0] = v / v.norm()
    gen = torch.Generator().manual_seed(20001)
    known, restarts = 0, 0  # columns of V whose product with A is in T
    segment = 0  # first column since the last fresh start (after an invariant subspace)
    while True:
        w = sign * apply(V[known])
        basis = V[: known + 1]
        h = basis @ w
        w = w - h @ basis
        h2 = basis @ w  # second pass (CGS2): orthogonal to rounding
        w = w - h2 @ basis
        h = (h + h2).numpy()
        T[: known + 1, known] = h
        T[known, : known + 1] = h
        known += 1
        beta = float(w.norm())
        theta, Y = np.linalg.eigh(T[:known, :known])
        anorm = float(np.abs(theta).max()) if theta.size else 0.0
        invariant = beta <= _FLOOR_EPS * np.finfo(np.float64).eps * max(anorm, 1e-300)
        coupling = 0.0 if invariant else beta
        resid = coupling * np.abs(Y[known - 1, :])
        ritz = _ritz_estimates(theta, resid)
        want = np.argsort(-theta)[: min(k, known)]
        floor = _FLOOR_EPS * np.finfo(np.float64).eps * anorm
        done = known >= k and bool(
            np.all(ritz[want] <= np.maximum(tol * np.abs(theta[want]), floor))
        )
        if done and known < dim and (invariant or segment > 0):
            # After a fresh start (the Krylov space of the earlier columns was invariant) the
            # new segment explores the complement of those columns; its top Ritz value, once
            # converged, is the largest eigenvalue left there. The top k are final only when
            # that value has converged and, if the segment is invariant too (a sign of
            # repeated eigenvalues), lies below the k-th wanted value. A first segment that
            # is invariant says nothing about its complement: go on from a fresh start.
            seg_theta, seg_y = np.linalg.eigh(T[segment:known, segment:known])
            top = int(np.argmax(seg_theta))
            seg_res = coupling * abs(seg_y[-1, top])
            seg_ok = seg_res <= max(tol * abs(seg_theta[top]), floor)
            below = seg_theta[top] < float(theta[want[-1]])
            done = segment > 0 and seg_ok and (below or not invariant)
        if done or known == dim:
            if known < k:  # pragma: no cover - only when dim < k, excluded above
                raise Inconclusive(f"Lanczos found {known} < k = {k} eigenpairs")
            vectors = (V[:known].T @ torch.as_tensor(Y[:, want])).numpy()
            return _Ritz(sign * theta[want], vectors, resid[want], ritz[want])
        if invariant:  # the Krylov space is invariant: go on from a fresh orthogonal direction
            w = torch.randn(dim, generator=gen, dtype=torch.float64)
            for _ in range(2):
                w = w - (V[:known] @ w) @ V[:known]
            beta = float(w.norm())
            segment = known
        if known == m:  # thick restart: keep the best Ritz vectors and the residual direction
            restarts += 1
            if restarts > maxiter:
                raise Inconclusive(
                    f"Lanczos ({which}, k={k}) did not converge in {maxiter} restarts "
                    f"(largest error estimate {float(ritz[want].max()):.3g})"
                )
            keep = np.argsort(-theta)[:keep_count]
            V[:keep_count] = torch.as_tensor(Y[:, keep]).T @ V[:known]
            s = coupling * Y[known - 1, keep]
            T[:] = 0.0
            T[np.arange(keep_count), np.arange(keep_count)] = theta[keep]
            T[keep_count, :keep_count] = s
            T[:keep_count, keep_count] = s
            known, segment = keep_count, 0
        V[known] = w / beta


def _ritz_estimates(theta: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Eigenvalue error estimates min(r_i, r_i^2 / gap_i), gap_i = min_j (|theta_i - theta_j|
    - r_j) over the other Ritz values (r_i alone where that is not positive)."""
    if theta.size == 1:
        return resid.copy()
    dist = np.abs(theta[:, None] - theta[None, :]) - resid[None, :]
    np.fill_diagonal(dist, np.inf)
    gap = dist.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.where(gap > 0, resid**2 / np.where(gap > 0, gap, 1.0), np.inf)
    return np.minimum(resid, quad)


def lanczos_tridiagonal(
    apply: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """(alpha (m,), beta (m - 1,)) of the Lanczos tridiagonal T_m = V_m^T A V_m from ``start``
    (normalised), m = ``steps`` or fewer where the Krylov space becomes invariant; full
    reorthogonalisation (two Gram-Schmidt passes), float64 CPU vectors.

    With T_m = Q diag(theta) Q^T, the Gauss quadrature nodes theta_j and weights Q_{0j}^2 satisfy
    sum_j Q_{0j}^2 theta_j^p = u^T A^p u for p <= 2m - 1 (u = start / ||start||): stochastic
    Lanczos quadrature (Golub & Meurant 2010; Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl. 38,
    2017) builds spectral densities from them.
    """
    dim = start.numel()
    steps = min(int(steps), dim)
    V = torch.zeros(dim, steps, dtype=torch.float64)
    V[:, 0] = start.to(torch.float64) / start.norm()
    alpha, beta = [], []
    for j in range(steps):
        w = apply(V[:, j]).to(torch.float64)
        if not bool(torch.isfinite(w).all()):
            raise Inconclusive("the curvature operator returned non-finite values")
        basis = V[:, : j + 1]
        a = 0.0
        for _ in range(2):
            h = basis.T @ w
            w = w - basis @ h
            a += float(h[j])
        alpha.append(a)
        b = float(w.norm())
        if j + 1 == steps or b <= 1e-12 * max(abs(x) for x in alpha):
            break
        beta.append(b)
        V[:, j + 1] = w / b
    return np.asarray(alpha), np.asarray(beta)


def hessian_eigenpairs(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    k: int = 1,
    which: str = "LA",
    hvp: str = "graph",
    **kwargs,
) -> EigenResult:
    """Extreme eigenpairs of the Hessian of ``loss_fn`` at ``theta`` (Lanczos on H v, products
    by :func:`hvp_fn` with ``method=hvp``; other keywords go to :func:`eigenpairs`)."""
    matvec = hvp_fn(loss_fn, theta, method=hvp)
    return eigenpairs(matvec, theta.numel(), k=k, which=which, like=theta, **kwargs)


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


def dense_hessian(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    chunk_size: int | None = None,
    method: str = "hvp",
) -> torch.Tensor:
    """Full (P, P) Hessian (the dense reference path; P^2 memory).

    ``method="hvp"`` (default): the columns H e_j by vectorised double-backward products on a
    gradient graph built once (:func:`batched_hvp_fn`), ``chunk_size`` columns at a time
    (default: as many as fit in about 256 MiB of output), then symmetrised (the two triangles
    agree to rounding). ``method="func"``: ``torch.func.hessian`` (forward-over-reverse Jacobian
    of the gradient), the independent route the tests compare with.

    Example (L = t_0^2 t_1 has H = [[2 t_1, 2 t_0], [2 t_0, 0]]):
        >>> t = torch.tensor([1.0, 3.0], dtype=torch.float64)
        >>> dense_hessian(lambda p: p[0] ** 2 * p[1], t).tolist()
        [[6.0, 2.0], [2.0, 0.0]]
    """
    if method == "func":
        return hessian(loss_fn)(theta)
    if method != "hvp":
        raise ValueError(f"method must be 'hvp' or 'func', got {method!r}")
    P = theta.numel()
    product = batched_hvp_fn(loss_fn, theta)
    chunk = chunk_size or max(1, min(P, 2**25 // max(P, 1), 256))
    H = torch.empty(P, P, dtype=theta.dtype, device=theta.device)
    for lo in range(0, P, chunk):
        hi = min(P, lo + chunk)
        E = torch.zeros(hi - lo, P, dtype=theta.dtype, device=theta.device)
        E[torch.arange(hi - lo), torch.arange(lo, hi)] = 1.0
        H[lo:hi] = product(E)
    return 0.5 * (H + H.T)


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
