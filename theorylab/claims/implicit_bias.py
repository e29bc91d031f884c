"""implicit_bias: gradient methods pick a particular interpolant of an underdetermined system.

Statement 1, ``min_norm_limit`` (:mod:`theorylab.theory.min_norm`): for a consistent
underdetermined A x = b (A: n x d, rank r < d) and the sum loss 1/2 ||A x - b||^2, GD with
0 < eta < 2/sigma_max^2 from x_0 follows the SVD closed form x_k at every step and converges to
pinv(A) b + (I - pinv(A) A) x_0, the minimum-norm solution when x_0 = 0. Mini-batch SGD keeps
the component of x_k orthogonal to the row space fixed at every step and converges to the same
point. Adam from zero does not in general (Wilson et al., NeurIPS 2017): the negative control.

Statement 2, ``diagonal_net_bias`` (Woodworth et al., COLT 2020, Thm 1;
:mod:`theorylab.theory.woodworth2020`): for beta = u*u - v*v, u(0) = v(0) = alpha, gradient
flow on 1/2 ||X beta - y||^2 converges to argmin Q_alpha(beta) s.t. X beta = y. The check
solves that problem independently (damped Newton on the dual, beta = 2 alpha^2 sinh(X^T nu)),
runs GD at a ladder of step sizes eta, 2^-1 eta, 2^-2 eta, ... and fits the exponent of the
discrepancy ||beta_GD(eta) - beta_Q|| in eta: a gradient-flow result predicts a discrepancy
linear in the step (exponent 1; Even, Pesme, Gunasekar, Flammarion 2023 show GD's limit is
the Q problem of a step-dependent effective alpha, shifted by O(eta)). Along a path of alphas
the solution moves from the minimum-l1 solution (small alpha, rich regime) to the minimum-l2
solution (large alpha, kernel regime); both ends are compared with explicit-constant bounds,
and the kernel end also with its leading-order offset P_null(beta_l2^3) / (24 alpha^4).

Setting: A has i.i.d. N(0, 1) entries (rank r: a product of n x r and r x d Gaussian factors
over sqrt(r)); b = A x_planted with x_planted k-sparse (``target=planted``) or b ~ N(0, I_n)
(``target=random``, consistent only at full row rank); x_0 ~ N(0, x0_scale^2 I_d). The diagonal
network uses X = A, y = b.

Shape: :func:`simulate` runs GD, SGD, Adam and the diagonal-net GD and returns a
:class:`Measurement`; :func:`compare` holds every reference (SVD closed form, Q_alpha solution,
linear program) and statement; docs/claims/implicit_bias.md lists them with their power.

Divergence: a GD step size eta >= 2/sigma_max^2 is reported as divergent (inconclusive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Inconclusive, UsageError
from ..registry import Claim, Comparison, Mutant, param
from ..report import Hypothesis, Statement
from ..stats import fit_power_law

if TYPE_CHECKING:
    import torch

    from ..runtime import Context

OPTIMIZERS = ("sgd", "gd", "adam")
TARGETS = ("planted", "random")
# Closed form and limits, relative to the scale of the solution: the 1e-8 in float64.
# In float32 rounding alone reaches ~1e-6 after a few hundred steps, so the tolerance is 1e-4.
TOLERANCE = {"float64": 1e-8, "float32": 1e-4}
# Divergence: the residual grows past this factor of its initial norm.
DIVERGENCE_FACTOR = 1e8
# Step-size exponent of the diagonal net's discrepancy: 1 for a gradient-flow limit. With
# d(eta) = c1 eta + c2 eta^2 the fitted slope over [eta0/4, eta0] is 1 + O(c2 eta0/c1); at
# eta0 = 1/(2 curvature) the measured local slopes are 0.96-1.0, so a half-width of 0.2 leaves
# twice the largest bias, while a wrong limit (discrepancy -> constant) gives a slope near 0.
STEP_EXPONENT, STEP_EXPONENT_HALF_WIDTH = 1.0, 0.2
# Kernel end of the path: GD's limit minus beta_l2 against the leading-order offset of argmin
# Q_alpha, P_null(beta_l2^3)/(24 alpha^4). The next term of q's series is relatively
# O(max|beta|^2/alpha^4) and GD's finite step shifts the effective alpha by a relative O(eta
# curvature) (Even et al. 2023), ~1e-4 at the default; the run's interpolation tolerance adds
# tol ||y|| / sigma_min in the row space. Relative tolerance 0.05 (the measured relative
# errors are ~1e-3, see docs/claims/implicit_bias.md), plus that interpolation floor; the
# expansion is used only where max|beta|/alpha^2 <= KERNEL_EXPANSION_MAX.
KERNEL_OFFSET_RTOL = 0.05
KERNEL_EXPANSION_MAX = 0.1
# Diagonal-net GD: base step fraction of 1/curvature, convergence test cadence and tolerance.
DIAGONAL_STEP_FRACTION = 0.5
CHECK_EVERY = 50
MAX_SERIES_POINTS = 300


@dataclass(frozen=True)
class Params:
    n: int = param(20, "equations (rows of A)", minimum=1, maximum=5000)
    d: int = param(50, "unknowns (columns of A); underdetermined needs d > rank", minimum=1,
                   maximum=20000)  # fmt: skip
    rank: int | None = param(None, "rank of A (default min(n, d))", minimum=1)
    target: str = param(
        "planted", "planted: b = A x_planted with a sparse x_planted (always consistent); "
        "random: b ~ N(0, I) (consistent only if rank = n)", choices=TARGETS,
    )  # fmt: skip
    sparsity: int = param(3, "nonzeros of x_planted (target=planted)", minimum=1)
    x0_scale: float = param(
        1.0, "GD/SGD start x_0 ~ N(0, x0_scale^2 I); 0 starts at zero", minimum=0.0
    )
    eta: float | None = param(
        None,
        "GD step size on 1/2||Ax-b||^2 (default 1/sigma_max^2; >= 2/sigma_max^2 diverges)",
        above=0.0,
    )
    steps: int = param(3000, "steps of GD, SGD and Adam on Ax = b", minimum=1, maximum=10**6)
    optimizer: str = param(
        "sgd", "optimizer judged against the min-norm limit besides GD: sgd = mini-batch SGD, "
        "adam = Adam from zero (negative control), gd = GD only (all three run and are drawn)",
        choices=OPTIMIZERS,
    )  # fmt: skip
    batch_size: int = param(5, "SGD mini-batch size (rows per step)", minimum=1)
    sgd_runs: int = param(4, "independent SGD runs (batched)", minimum=1, maximum=1024)
    adam_lr: float = param(0.01, "Adam learning rate (cosine-decayed to 0 over --steps)",
                           above=0.0)  # fmt: skip
    alpha: float = param(
        0.1, "diagonal net: initialisation scale alpha at which the step-size fit is done",
        minimum=1e-6, maximum=1e3,
    )  # fmt: skip
    alpha_small: float = param(0.01, "diagonal net: smallest alpha of the path (rich regime)",
                               minimum=1e-6, maximum=1e3)  # fmt: skip
    alpha_large: float = param(10.0, "diagonal net: largest alpha of the path (kernel regime)",
                               minimum=1e-6, maximum=1e3)  # fmt: skip
    path_points: int = param(7, "alphas on the path, geometric from alpha_small to alpha_large",
                             minimum=2, maximum=64)  # fmt: skip
    step_ladder: int = param(3, "step sizes eta0 2^-j, j < step_ladder, for the exponent fit",
                             minimum=2, maximum=8)  # fmt: skip
    diagonal_steps: int = param(
        400000, "most GD steps for each diagonal-net run (stops at convergence)",
        minimum=CHECK_EVERY, maximum=10**8,
    )  # fmt: skip

    @property
    def effective_rank(self) -> int:
        return self.rank if self.rank is not None else min(self.n, self.d)

    def validate(self) -> None:
        r = self.effective_rank
        if r > min(self.n, self.d):
            raise UsageError(f"rank {r} exceeds min(n, d) = {min(self.n, self.d)}")
        if r >= self.d:
            raise UsageError(
                f"rank {r} >= d = {self.d} unknowns: the solution is unique, nothing to select; "
                "the implicit-bias check needs an underdetermined system (d > rank)"
            )
        if self.target == "random" and r < self.n:
            raise UsageError(
                f"inconsistent system: b is random and A has rank {r} < n = {self.n} rows, so "
                "A x = b has no solution; use --target planted or --rank equal to --n"
            )
        if self.target == "planted" and self.sparsity > self.d:
            raise UsageError(f"sparsity {self.sparsity} exceeds d = {self.d}")
        if self.batch_size > self.n:
            raise UsageError(f"batch_size {self.batch_size} exceeds n = {self.n} equations")
        if self.alpha_small >= self.alpha_large:
            raise UsageError(
                f"alpha_small {self.alpha_small:g} must be below alpha_large {self.alpha_large:g}"
            )


def estimate_bytes(p: Params) -> float:
    """A, its SVD and projector (~4 n d + d^2), the GD closed form for every step (steps x d),
    the SGD runs' iterates, and the diagonal-net batch (a few d x columns)."""
    columns = p.path_points + p.step_ladder
    per_run = (p.steps + 1) * p.d * 3 + p.sgd_runs * p.d * (p.steps + 1 + p.batch_size)
    return 8.0 * (4 * p.n * p.d + p.d**2 + per_run + 8 * p.d * columns + 4 * p.d**2)


@dataclass
class Measurement:
    """What one run measured (float64 numpy arrays).

    The system (A, b, x_planted or None, x_0) and GD's step ``eta``; every iterate of GD
    (``gd_path``, (K + 1, d)), of the SGD runs (``sgd_path``, (K + 1, R, d)) and of Adam
    (``adam_path``); the diagonal net's limits ``betas`` (d, P) for the columns ``columns``
    (alpha, eta): the path alphas first, then the step ladder at ``alpha``, then alpha_large at
    half its step; the steps each took and whether it reached ``diagonal_tol``.
    """

    A: np.ndarray
    b: np.ndarray
    x_planted: np.ndarray | None
    x0: np.ndarray
    eta: float
    gd_path: np.ndarray
    sgd_path: np.ndarray
    eta_sgd: float
    adam_path: np.ndarray
    betas: np.ndarray
    columns: list[tuple[float, float]]
    diagonal_taken: np.ndarray
    diagonal_converged: np.ndarray
    diagonal_tol: float
    dtype: str = "float64"


# Simulation ----------------------------------------------------------------------------------
def make_system(p: Params, ctx: Context):
    """A (n x d, rank r), b, x_planted (None for a random target) and x_0, in float64."""
    import torch

    r = p.effective_rank
    if r == min(p.n, p.d):
        A = ctx.randn(p.n, p.d, stream="system/A").to(torch.float64)
    else:
        left = ctx.randn(p.n, r, stream="system/A_left").to(torch.float64)
        A = left @ ctx.randn(r, p.d, stream="system/A_right").to(torch.float64) / math.sqrt(r)
    x_planted = None
    if p.target == "planted":
        support = torch.randperm(p.d, generator=ctx.generator("system/support"))[: p.sparsity]
        x_planted = torch.zeros(p.d, dtype=torch.float64, device=A.device)
        x_planted[support.to(A.device)] = ctx.randn(p.sparsity, stream="system/values").to(
            torch.float64
        )
        b = A @ x_planted
    else:
        b = ctx.randn(p.n, stream="system/b").to(torch.float64)
    x0 = p.x0_scale * ctx.randn(p.d, stream="system/x0").to(torch.float64)
    return A, b, x_planted, x0


def simulate(p: Params, ctx: Context) -> Measurement:
    import torch

    from ..theory import min_norm

    A64, b64, x_planted, x0_64 = make_system(p, ctx)
    s_max = float(torch.linalg.svdvals(A64)[0])
    eta = p.eta if p.eta is not None else 1.0 / s_max**2
    A, b, x0 = ctx.to(A64), ctx.to(b64), ctx.to(x0_64)
    gd_path = gradient_descent(A, b, x0, eta, p.steps, min_norm.step_size_limit(s_max))
    sgd_path, eta_sgd = sgd(p, ctx, A, b, x0, A64)
    adam_path = adam(A, b, p.adam_lr, p.steps)
    diagonal = _diagonal_runs(p, ctx, A64, b64)

    def numpy(t):
        return t.to(torch.float64).cpu().numpy()

    return Measurement(
        A=numpy(A64), b=numpy(b64), x_planted=None if x_planted is None else numpy(x_planted),
        x0=numpy(x0_64), eta=eta, gd_path=numpy(gd_path), sgd_path=numpy(sgd_path),
        eta_sgd=eta_sgd, adam_path=numpy(adam_path), betas=numpy(diagonal["betas"]),
        columns=diagonal["columns"], diagonal_taken=diagonal["taken"].numpy(),
        diagonal_converged=diagonal["converged"].numpy(), diagonal_tol=diagonal["tol"],
        dtype=ctx.dtype,
    )  # fmt: skip


def gradient_descent(A, b, x0, eta, steps, eta_limit) -> torch.Tensor:
    """GD x_{k+1} = x_k - eta A^T (A x_k - b) on the sum loss; returns every iterate.

    Divergence (non-finite iterate, or residual above DIVERGENCE_FACTOR times the initial one)
    raises Inconclusive naming the step; so does eta >= 2/sigma_max^2 even if the budget ended
    before the residual blew up (the iteration cannot converge there).

    Example (A = [1, 1], eta = 1/sigma_max^2 = 1/2: one step lands on the min-norm solution):
        >>> import torch
        >>> A, b = torch.tensor([[1.0, 1.0]]).double(), torch.tensor([2.0]).double()
        >>> gradient_descent(A, b, torch.zeros(2, dtype=A.dtype), 0.5, 1, 1.0)[-1].tolist()
        [1.0, 1.0]
    """
    path = A.new_empty(steps + 1, A.shape[1])
    path[0] = x0
    r0 = float((A @ x0 - b).norm())
    x = x0
    for k in range(1, steps + 1):
        x = x - eta * (A.T @ (A @ x - b))
        path[k] = x
        residual = float((A @ x - b).norm())
        if not math.isfinite(residual) or residual > DIVERGENCE_FACTOR * max(r0, 1e-300):
            relation = ">=" if eta >= eta_limit else "< (numerical failure)"
            raise Inconclusive(
                f"gradient descent diverged at step {k}: eta = {eta:.4g} {relation} "
                f"2/sigma_max^2 = {eta_limit:.4g} (residual {residual:.3g} from {r0:.3g})", step=k,
            )  # fmt: skip
    if eta >= eta_limit:
        final = float((A @ x - b).norm())
        raise Inconclusive(
            f"eta = {eta:.4g} >= 2/sigma_max^2 = {eta_limit:.4g}: gradient descent does not "
            f"converge (divergent; residual {final:.3g} after {steps} steps, from {r0:.3g})",
            step=steps,
        )
    return path


def sgd(p: Params, ctx: Context, A, b, x0, A64) -> tuple[torch.Tensor, float]:
    """Mini-batch SGD, ``sgd_runs`` runs batched, constant step on the sum loss:
    x <- x - eta_sgd (n/B) A_B^T (A_B x - b_B), the unbiased gradient estimate. All batches
    (B rows without replacement per step) are drawn first, and eta_sgd (n/B) = 1 / max ||A_B||_2^2
    over them, so every step is non-expansive. Returns every iterate (K + 1, R, d) and eta_sgd.
    """
    import torch

    R, B = p.sgd_runs, p.batch_size
    gen = ctx.generator("sgd/batches")
    batches = torch.argsort(torch.rand(p.steps, R, p.n, generator=gen), dim=2)[:, :, :B]
    batches = batches.to(A.device)
    largest = float(torch.linalg.matrix_norm(A64[batches.reshape(-1, B)], ord=2).max()) ** 2
    eta_sgd = B / (p.n * largest)
    path = A.new_empty(p.steps + 1, R, p.d)
    X = x0[None, :].repeat(R, 1)  # (R, d)
    path[0] = X
    for k in range(1, p.steps + 1):
        idx = batches[k - 1]
        A_B = A[idx]  # (R, B, d)
        r_B = torch.einsum("rbd,rd->rb", A_B, X) - b[idx]
        X = X - (eta_sgd * p.n / B) * torch.einsum("rbd,rb->rd", A_B, r_B)
        if not bool(torch.isfinite(X).all()):
            raise Inconclusive(f"SGD produced a non-finite iterate at step {k}", step=k)
        path[k] = X
    return path, eta_sgd


def adam(A, b, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8) -> torch.Tensor:
    """Adam (Kingma & Ba 2015) from x = 0 on 1/2||Ax - b||^2, learning rate
    lr (1 + cos(pi k / steps)) / 2; returns every iterate. The update divides each coordinate
    by its own running RMS, so it leaves the row space of A.

    Example (the first step moves every coordinate by lr, whatever its gradient's size):
        >>> import torch
        >>> A, b = torch.tensor([[1.0, 4.0]]).double(), torch.tensor([1.0]).double()
        >>> [round(v, 6) for v in adam(A, b, 0.01, 10)[1].tolist()]
        [0.01, 0.01]
    """
    import torch

    x = A.new_zeros(A.shape[1])
    m, v = torch.zeros_like(x), torch.zeros_like(x)
    path = A.new_empty(steps + 1, A.shape[1])
    path[0] = x
    for k in range(1, steps + 1):
        g = A.T @ (A @ x - b)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**k), v / (1 - beta2**k)
        rate = lr * 0.5 * (1 + math.cos(math.pi * (k - 1) / steps))
        x = x - rate * m_hat / (v_hat.sqrt() + eps)
        if not bool(torch.isfinite(x).all()):
            raise Inconclusive(f"Adam produced a non-finite iterate at step {k}", step=k)
        path[k] = x
    return path


def train_diagonal(X, y, alphas, etas, tol, max_steps):
    """GD on 1/2||X(u*u - v*v) - y||^2 from u = v = alpha, one column per (alpha, eta) pair.

    u <- u - 2 eta u * g, v <- v + 2 eta v * g with g = X^T r. A column stops (its step is set
    to 0) once ||r|| <= tol ||y||, tested every CHECK_EVERY steps. Returns (beta (d, P), steps
    taken (P,), converged (P,)).

    Example (one coordinate: the only interpolant is beta = y, whatever alpha):
        >>> import torch
        >>> X, y = torch.ones(1, 1, dtype=torch.float64), torch.tensor([0.7], dtype=torch.float64)
        >>> one = torch.ones(1, dtype=torch.float64)
        >>> beta, _, ok = train_diagonal(X, y, 0.1 * one, 0.2 * one, 1e-12, 10**4)
        >>> round(float(beta[0, 0]), 9), bool(ok[0])
        (0.7, True)
    """
    import torch

    d, P = X.shape[1], alphas.numel()
    U = alphas[None, :].repeat(d, 1)
    V = U.clone()
    Y = y[:, None]
    y_norm = float(y.norm())
    taken = torch.zeros(P, dtype=torch.long)
    active = torch.ones(P, dtype=torch.bool, device=X.device)
    block_start = 0  # the active set changes only at checks: steps are counted per block
    for step in range(max_steps):
        r = X @ (U * U - V * V) - Y
        if step % CHECK_EVERY == 0:
            taken += active.cpu() * (step - block_start)
            block_start = step
            rel = r.norm(dim=0) / y_norm
            if not bool(torch.isfinite(rel).all()):
                p_bad = int(torch.nonzero(~torch.isfinite(rel))[0])
                raise Inconclusive(
                    f"diagonal-net GD diverged (alpha {float(alphas[p_bad]):.3g}, eta "
                    f"{float(etas[p_bad]):.3g}) by step {step}", step=step,
                )  # fmt: skip
            active = rel > tol
            if not bool(active.any()):
                break
            step_sizes = (2 * etas * active)[None, :]
        update = step_sizes * (X.T @ r)
        U.mul_(1 - update)
        V.mul_(1 + update)
    else:
        taken += active.cpu() * (max_steps - block_start)
    r = X @ (U * U - V * V) - Y
    converged = (r.norm(dim=0) / y_norm <= tol).cpu()
    return U * U - V * V, taken, converged


def diagonal_step(A64, top_gram: float, alpha: float, beta_limit) -> float:
    """Base GD step of the diagonal net at ``alpha``: DIAGONAL_STEP_FRACTION over the larger of
    the curvature at the start, 8 alpha^2 lambda_max(A A^T), and at the predicted limit,
    lambda_max(4 A diag(sqrt(beta^2 + 4 alpha^4)) A^T) (u^2 + v^2 = sqrt(beta^2 + 4 alpha^4)
    along the flow)."""
    import torch

    weight = torch.sqrt(beta_limit**2 + 4 * alpha**4)
    k_limit = float(torch.linalg.eigvalsh(4 * (A64 * weight[None, :]) @ A64.T)[-1])
    return DIAGONAL_STEP_FRACTION / max(8 * alpha**2 * top_gram, k_limit)


def _diagonal_runs(p: Params, ctx: Context, A64, b64) -> dict[str, Any]:
    """GD limits of the diagonal net along the alpha path and on the step ladder at ``alpha``.

    The step sizes use the predicted limit (argmin Q_alpha) for the curvature at the end of the
    run; the comparison solves that problem again on its own."""
    import torch

    from ..theory import woodworth2020

    X_rows, y_rows = _independent_rows(A64, b64)
    top_gram = float(torch.linalg.eigvalsh(A64 @ A64.T)[-1])
    base = {}
    path_alphas = torch.logspace(math.log10(p.alpha_small), math.log10(p.alpha_large),
                                 p.path_points, dtype=torch.float64).tolist()  # fmt: skip
    for a in dict.fromkeys([*path_alphas, p.alpha]):
        base[a] = diagonal_step(
            A64, top_gram, a, woodworth2020.solve_q_alpha(X_rows, y_rows, a).beta
        )
    ladder = [base[p.alpha] * 2.0**-j for j in range(p.step_ladder)]
    columns = [(a, base[a]) for a in path_alphas] + [(p.alpha, e) for e in ladder]
    columns.append((path_alphas[-1], base[path_alphas[-1]] / 2))  # kernel end at half the step
    alphas = ctx.to(torch.tensor([c[0] for c in columns], dtype=torch.float64))
    etas = ctx.to(torch.tensor([c[1] for c in columns], dtype=torch.float64))
    tol = max(1e-10, 1e4 * torch.finfo(ctx.torch_dtype).eps)
    betas, taken, converged = train_diagonal(
        ctx.to(A64), ctx.to(b64), alphas, etas, tol, p.diagonal_steps
    )
    return dict(betas=betas, columns=columns, taken=taken, converged=converged, tol=tol)


def _independent_rows(A64, b64):
    """The constraint set {X beta = y} written with rank-many independent rows (thin SVD)."""
    import torch

    from ..theory import min_norm

    U, S, Vh = torch.linalg.svd(A64, full_matrices=False)
    rank = min_norm.row_space_rank(S)
    return S[:rank, None] * Vh[:rank], U[:, :rank].T @ b64


# Comparison ----------------------------------------------------------------------------------
def compare(m: Measurement, p: Params) -> Comparison:
    """Every statement of implicit_bias from a measurement (references computed here)."""
    out = Comparison(statements=[])
    system = _system(m, p, out)
    tol = TOLERANCE[m.dtype]
    series = {"gd": _gd_statements(m, p, system, tol, out)}
    sgd_statements = _sgd_statements(m, p, system, tol, out, series)
    adam_statements = _adam_statements(m, system, tol, out, series)
    out.statements += {"sgd": sgd_statements, "adam": adam_statements, "gd": []}[p.optimizer]
    _diagonal_statements(m, p, system, out)
    series["step"] = _thin(list(range(p.steps + 1)))
    out.series["linear"] = series
    return out


def _system(m: Measurement, p: Params, out: Comparison) -> dict[str, Any]:
    """The system's hypotheses (consistent, underdetermined, stable step) and its references:
    x_lim = pinv(A) b + (I - pinv(A) A) x_0 and the minimum-norm solution pinv(A) b."""
    import torch

    from ..theory import min_norm

    A, b, x0 = (torch.from_numpy(v) for v in (m.A, m.b, m.x0))
    singular = torch.linalg.svdvals(A)
    rank = min_norm.row_space_rank(singular)
    s_max = float(singular[0])
    limit = min_norm.min_norm_limit(A, b, x0)
    x_min = min_norm.min_norm_limit(A, b, torch.zeros_like(x0))
    consistency = float((A @ x_min - b).norm() / b.norm().clamp_min(1e-300))
    eta_limit = min_norm.step_size_limit(s_max)
    out.hypotheses += [
        Hypothesis(
            "consistent_system", "A x = b has a solution (b in range(A))", consistency <= 1e-10,
            f"||A pinv(A) b - b|| / ||b|| = {consistency:.2g}", required=True,
        ),
        Hypothesis(
            "underdetermined", "rank(A) < d: many solutions, GD's choice is the question",
            rank < p.d, f"numerical rank {rank}, d = {p.d}", required=True,
        ),
        Hypothesis(
            "step_size", "0 < eta < 2/sigma_max^2 (GD converges on the quadratic)",
            m.eta < eta_limit, f"eta = {m.eta:.4g}, 2/sigma_max^2 = {eta_limit:.4g}",
            required=True,
        ),
    ]  # fmt: skip
    out.quantities.update(n=p.n, d=p.d, rank=rank, sigma_max=s_max,
                          sigma_min=float(singular[rank - 1]), eta=m.eta, eta_limit=eta_limit,
                          min_norm=float(x_min.norm()))  # fmt: skip
    scale = max(float(limit.norm()), float(x0.norm()))
    return dict(A=A, b=b, x0=x0, rank=rank, limit=limit, x_min=x_min, scale=scale)


def _gd_statements(m, p, system, tol, out) -> list:
    """GD against the SVD closed form at every iterate, and its last iterate against x_lim."""
    import torch

    from ..theory import min_norm

    A, b, x0, limit = system["A"], system["b"], system["x0"], system["limit"]
    gd_path = torch.from_numpy(m.gd_path)
    closed = min_norm.gd_iterates(A, b, x0, m.eta, p.steps)
    gd_dev = (gd_path - closed).norm(dim=1) / system["scale"]
    out.statements.append(
        Statement.at_most(
            "gd_closed_form", "max_k ||x_k - x_k(SVD closed form)|| / max(||x_lim||, ||x_0||) "
            f"<= {tol:g} (every iterate, k = 0..{p.steps})", float(gd_dev.max()), tol,
            power="exact",
        )
    )  # fmt: skip
    predicted_gap = float((closed[-1] - limit).norm()) / float(limit.norm())
    gd_gap = float((gd_path[-1] - limit).norm() / limit.norm())
    out.statements.append(
        _limit_statement(
            "gd_min_norm_limit", "||x_K - (pinv(A) b + (I - pinv(A)A) x_0)|| / ||x_lim|| "
            f"<= {tol:g} (GD from x_0)", gd_gap, tol, converged=predicted_gap <= tol / 10,
            why=f"closed form at K = {p.steps} is still {predicted_gap:.2g} away: raise --steps",
        )
    )  # fmt: skip
    out.quantities["gd_distance_to_limit"] = gd_gap
    return _thin((gd_path - limit).norm(dim=1).tolist())


def _limit_statement(name, text, measured, tol, converged, why) -> Statement:
    statement = Statement.at_most(name, text, measured, tol, power="exact")
    if not converged and statement.holds is False:
        statement.mark_not_evaluable(f"not converged within the budget ({why})")
    return statement


def _sgd_statements(m, p, system, tol, out, series) -> list:
    """Every SGD iterate's component outside x_0 + row(A), and the runs' last iterates."""
    import torch

    A, b, x0, limit = system["A"], system["b"], system["x0"], system["limit"]
    path = torch.from_numpy(m.sgd_path)  # (K + 1, R, d)
    _, _, Vh = torch.linalg.svd(A, full_matrices=True)
    V_null = Vh[system["rank"] :].T
    null_projector = V_null @ V_null.T  # I - pinv(A) A
    drift = ((path - x0) @ null_projector).norm(dim=2)  # (K + 1, R)
    distance = (path - limit).norm(dim=2)
    statements = [
        Statement.at_most(
            "sgd_row_space_invariant", "max_k max_runs ||(I - pinv(A)A)(x_k - x_0)|| / "
            f"max(||x_lim||, ||x_0||) <= {tol:g} (every SGD iterate stays in x_0 + row(A))",
            float(drift.max()) / system["scale"], tol, power="exact",
            detail=f"{p.sgd_runs} runs, batch {p.batch_size}, eta_sgd = {m.eta_sgd:.4g}",
        )
    ]  # fmt: skip
    residual = float((path[-1] @ A.T - b).norm(dim=1).max() / b.norm())
    gap = float(distance[-1].max()) / float(limit.norm())
    statements.append(
        _limit_statement(
            "sgd_min_norm_limit", f"max_runs ||x_K - x_lim|| / ||x_lim|| <= {tol:g} "
            "(mini-batch SGD from x_0)", gap, tol, converged=residual <= tol / 10,
            why=f"relative residual {residual:.2g}: raise --steps",
        )
    )  # fmt: skip
    out.quantities.update(sgd_distance_to_limit=gap, sgd_residual=residual, eta_sgd=m.eta_sgd)
    series["sgd"] = _thin(distance.mean(dim=1).tolist())
    return statements


def _adam_statements(m, system, tol, out, series) -> list:
    """Adam's last iterate against pinv(A) b (expected to miss it: the negative control)."""
    import torch

    A, b, x_min = system["A"], system["b"], system["x_min"]
    path = torch.from_numpy(m.adam_path)
    residual = float((A @ path[-1] - b).norm() / b.norm())
    distance = (path - x_min).norm(dim=1)
    gap = float(distance[-1] / x_min.norm())
    statement = _limit_statement(
        "adam_min_norm_limit",
        f"||x_K - pinv(A) b|| / ||pinv(A) b|| <= {tol:g} (Adam from "
        "x_0 = 0; expected to fail: adaptive steps leave the row space)",
        gap,
        tol,
        converged=residual <= 1e-6,
        why=f"Adam's relative residual {residual:.2g} > 1e-6: raise --steps or --adam-lr",
    )
    statement.detail = statement.detail or f"Adam interpolates (relative residual {residual:.2g})"
    out.quantities.update(adam_distance_to_min_norm=gap, adam_residual=residual)
    series["adam"] = _thin(distance.tolist())
    return [statement]


def _diagonal_statements(m, p, system, out) -> None:
    """The diagonal net against Woodworth et al.: the Q_alpha limit (step-size exponent), the
    rich end (l1 excess bound), the kernel end (l2 distance bound and leading offset)."""
    import torch

    from ..theory import min_norm, woodworth2020

    A, b = system["A"], system["b"]
    X_rows, y_rows = _independent_rows(A, b)
    path_alphas = [a for a, _ in m.columns[: p.path_points]]
    solve = {a: woodworth2020.solve_q_alpha(X_rows, y_rows, a) for a in [*path_alphas, p.alpha]}
    _diagonal_hypotheses(m, p, solve, out)
    betas = torch.from_numpy(m.betas)
    first = len(path_alphas)
    fit, discrepancy, ladder = _step_size_exponent(m, p, solve, betas, first, out)

    beta_l1 = woodworth2020.min_l1_solution(A, b)
    beta_l2 = min_norm.min_norm_limit(A, b, A.new_zeros(p.d))
    beta_small, beta_large = betas[:, 0], betas[:, first - 1]
    l1_min = float(beta_l1.abs().sum())
    excess = float(beta_small.abs().sum()) - l1_min
    out.statements.append(
        Statement.at_most(
            "rich_regime_l1_excess", f"||beta_GD(alpha={p.alpha_small:g})||_1 - min ||beta||_1 "
            "<= (S_1 - S_alpha + 2 d alpha^2)/(log(1/alpha^2) - 1) (from |z|log|z|-|z| <= q(z) "
            "<= |z|log(1+|z|)-|z|+2)", excess,
            woodworth2020.l1_excess_bound(beta_l1, beta_small, p.alpha_small),
            detail=f"min-l1 norm {l1_min:.6g} (linear program)",
        )
    )  # fmt: skip
    kernel_distance = float((beta_large - beta_l2).norm())
    out.statements.append(
        Statement.at_most(
            "kernel_regime_l2_distance", f"||beta_GD(alpha={p.alpha_large:g}) - beta_l2||_2 <= "
            "||beta||_4^2 / (sqrt(48) alpha^2) (from z^2/4 - z^4/192 <= q(z) <= z^2/4)",
            kernel_distance, woodworth2020.kernel_distance_bound(beta_large, p.alpha_large),
            detail=f"min-l2 norm {float(beta_l2.norm()):.6g}; the level is compared in "
            "kernel_regime_offset",
        )
    )  # fmt: skip
    beta_half = betas[:, -1]  # alpha_large at half the step: GD's O(eta) shift extrapolated out
    out.statements.append(_kernel_offset_statement(m, p, system, beta_large, beta_half, beta_l2,
                                                   out))  # fmt: skip

    out.quantities.update(
        step_size_exponent=fit.exponent, step_size_exponent_stderr=fit.stderr,
        min_l1_norm=l1_min, min_l2_norm=float(beta_l2.norm()), rich_l1_excess=excess,
        kernel_l2_distance=kernel_distance, diagonal_steps_max=int(m.diagonal_taken.max()),
    )  # fmt: skip
    out.series["diagonal"] = _diagonal_series(
        m, p, betas, [solve[a].beta for a in path_alphas], beta_l1, beta_l2, ladder, discrepancy
    )


def _diagonal_series(m, p, betas, path_q, beta_l1, beta_l2, ladder, discrepancy) -> dict:
    """The path's norms and distances (GD limits and argmin Q_alpha) and the step-size fit."""
    first = p.path_points
    return {
        "alpha": [a for a, _ in m.columns[:first]],
        "l1_gd": [float(betas[:, j].abs().sum()) for j in range(first)],
        "l2_gd": [float(betas[:, j].norm()) for j in range(first)],
        "l1_q": [float(b.abs().sum()) for b in path_q],
        "l2_q": [float(b.norm()) for b in path_q],
        "dist_l1": [float((betas[:, j] - beta_l1).norm()) for j in range(first)],
        "dist_l2": [float((betas[:, j] - beta_l2).norm()) for j in range(first)],
        "min_l1": float(beta_l1.abs().sum()),
        "min_l2": float(beta_l2.norm()),
        "fit_eta": ladder,
        "fit_discrepancy": discrepancy,
        "fit_alpha": p.alpha,
        "planted_l1": float(np.abs(m.x_planted).sum()) if m.x_planted is not None else None,
    }


def _diagonal_hypotheses(m, p, solve, out) -> None:
    worst_kkt = max(s.constraint_residual for s in solve.values())
    converged = bool(m.diagonal_converged.all())
    hint = "" if converged else ": raise --diagonal-steps"
    if not converged and m.dtype != "float64":
        hint += f" (or use float64: in {m.dtype} the small updates at large alpha round away)"
    etas = [c[1] for c in m.columns]
    out.hypotheses += [
        Hypothesis(
            "dual_newton_converged", "the independent Q_alpha solution satisfies X beta = y",
            worst_kkt <= 1e-10, f"worst ||X beta_Q - y|| / ||y|| over alphas: {worst_kkt:.2g}",
            required=True,
        ),
        Hypothesis(
            "diagonal_gd_converged", "every diagonal-net GD run interpolates (||r|| <= "
            f"{m.diagonal_tol:g} ||y||)", converged,
            f"steps taken: {int(m.diagonal_taken.min())}..{int(m.diagonal_taken.max())} of at "
            f"most {p.diagonal_steps}" + hint, required=True,
        ),
        Hypothesis(
            "gradient_flow", "Woodworth et al. Thm 1 is about gradient flow (eta -> 0); GD runs "
            "at finite eta, and the step-size fit checks that its limit tends to the flow's",
            False, f"GD step sizes {min(etas):.3g}..{max(etas):.3g}: each run's base "
            f"step is {DIAGONAL_STEP_FRACTION}/curvature, the fit adds 2^-j of it",
        ),
    ]  # fmt: skip


def _step_size_exponent(m, p, solve, betas, first, out):
    """Discrepancy to the Q_alpha solution, linear in the step size (a gradient-flow limit)."""
    beta_q = solve[p.alpha].beta
    ladder = [m.columns[first + j][1] for j in range(p.step_ladder)]
    discrepancy = [
        float((betas[:, first + j] - beta_q).norm() / beta_q.norm()) for j in range(p.step_ladder)
    ]
    fit = fit_power_law(ladder, discrepancy)
    out.statements.append(
        Statement.within(
            "step_size_exponent", "fitted exponent of ||beta_GD(eta) - argmin Q_alpha|| in eta "
            f"in {STEP_EXPONENT:g} +- {STEP_EXPONENT_HALF_WIDTH} (Woodworth et al. Thm 1 is a "
            "gradient-flow result: the GD limit is off by O(eta))", fit.exponent,
            (STEP_EXPONENT - STEP_EXPONENT_HALF_WIDTH, STEP_EXPONENT + STEP_EXPONENT_HALF_WIDTH),
            detail=f"alpha = {p.alpha:g}; relative discrepancies "
            f"{', '.join(f'{v:.3g}' for v in discrepancy)} at eta = "
            f"{', '.join(f'{e:.3g}' for e in ladder)}",
        )
    )  # fmt: skip
    return fit, discrepancy, ladder


def _kernel_offset_statement(m, p, system, beta_large, beta_half, beta_l2, out) -> Statement:
    """GD's limit at alpha_large minus beta_l2, extrapolated to eta -> 0 from the steps eta and
    eta/2 (Richardson: GD's limit is shifted by O(eta), Even et al. 2023), against the
    leading-order offset of argmin Q_alpha from beta_l2
    (:func:`theorylab.theory.woodworth2020.kernel_regime_offset`)."""
    from ..theory import woodworth2020

    A, b = system["A"], system["b"]
    predicted = woodworth2020.kernel_regime_offset(A, beta_l2, p.alpha_large)
    measured = 2 * (beta_half - beta_l2) - (beta_large - beta_l2)
    sigma_min = float(out.quantities["sigma_min"])
    floor = m.diagonal_tol * float(b.norm()) / sigma_min  # row-space error of a stopped run
    scale = float(predicted.norm())
    error = float((measured - predicted).norm()) / scale if scale > 0 else math.inf
    tolerance = KERNEL_OFFSET_RTOL + floor / scale if scale > 0 else math.inf
    expansion = float(beta_l2.abs().max()) / p.alpha_large**2
    out.quantities.update(kernel_offset_predicted=scale, kernel_offset_relative_error=error)
    statement = Statement.at_most(
        "kernel_regime_offset",
        f"||(beta_GD - beta_l2) - P_null(beta_l2^3)/(24 alpha^4)|| / ||P_null(beta_l2^3)/(24 "
        f"alpha^4)|| <= {KERNEL_OFFSET_RTOL:g} + interpolation floor at alpha = "
        f"{p.alpha_large:g}, beta_GD extrapolated to eta -> 0 from eta and eta/2 (leading "
        "order of argmin Q_alpha, q(z) = z^2/4 - z^4/192 + ...)",
        error, tolerance, power="interval",
        detail=f"||beta_GD - beta_l2|| = {float((beta_large - beta_l2).norm()):.4g} at eta, "
        f"{float((beta_half - beta_l2).norm()):.4g} at eta/2, {float(measured.norm()):.4g} "
        f"extrapolated; predicted "
        f"{scale:.4g}; max|beta_l2|/alpha^2 = {expansion:.2g}; floor {floor:.2g}",
    )  # fmt: skip
    if expansion > KERNEL_EXPANSION_MAX:
        statement.mark_not_evaluable(
            f"max|beta_l2|/alpha^2 = {expansion:.2g} > {KERNEL_EXPANSION_MAX:g}: the series of q "
            "does not apply; raise --alpha-large"
        )
    return statement


def _thin(values: list) -> list:
    """Every value for short runs; at most MAX_SERIES_POINTS evenly spaced ones (and the last)."""
    stride = max(1, math.ceil(len(values) / MAX_SERIES_POINTS))
    out = values[::stride]
    if (len(values) - 1) % stride:
        out.append(values[-1])
    return out


# Mutants: planted mistakes the check must catch (python -m theorylab.power implicit_bias) ----
def _limit_without_projection(A, b, x0):
    """pinv(A) b: the (I - pinv(A) A) x_0 term of GD's limit dropped."""
    import torch

    return torch.linalg.pinv(A) @ b + 0 * x0


def _contraction_double_step(eta_value, singular_values):
    """1 - 2 eta s^2 in place of GD's per-direction contraction 1 - eta s^2."""
    return 1 - 2 * eta_value * singular_values**2


def _link_without_two(alpha_value, s_values):
    """beta = alpha^2 sinh(s): the factor 2 of the diagonal net's link dropped."""
    import torch

    return alpha_value**2 * torch.sinh(s_values)


def _conjugate_without_two(alpha_value, s_values):
    """alpha^2 (cosh s - 1) = 2 alpha^2 sinh^2(s/2): the potential matching the wrong link."""
    import torch

    return 2 * alpha_value**2 * torch.sinh(s_values / 2) ** 2


def _offset_halved(X, beta_l2, alpha_value):
    """P_null(beta^3)/(48 alpha^4): q's quartic term read as -z^4/384 instead of -z^4/192."""
    import torch

    cube = beta_l2**3
    return (cube - torch.linalg.pinv(X) @ (X @ cube)) / (48 * alpha_value**4)


MUTANTS = (
    Mutant(
        "limit_without_projection",
        "GD's limit pinv(A) b, the projection term (I - pinv(A) A) x_0 dropped",
        {"theorylab.theory.min_norm.min_norm_limit": _limit_without_projection},
    ),
    Mutant(
        "contraction_double_step",
        "GD's closed form with contraction 1 - 2 eta s^2 per singular direction instead of "
        "1 - eta s^2",
        {"theorylab.theory.min_norm._contraction": _contraction_double_step},
    ),
    Mutant(
        "potential_link_without_two",
        "Woodworth potential with link beta = alpha^2 sinh(X^T nu) instead of 2 alpha^2 sinh "
        "(the Q problem of alpha/sqrt 2)",
        {
            "theorylab.theory.woodworth2020.link": _link_without_two,
            "theorylab.theory.woodworth2020.conjugate": _conjugate_without_two,
        },
    ),
    Mutant(
        "kernel_offset_halved",
        "q's quartic term -z^4/384 instead of -z^4/192: the kernel-regime offset of argmin "
        "Q_alpha from beta_l2 halved",
        {"theorylab.theory.woodworth2020.kernel_regime_offset": _offset_halved},
    ),
)


CLAIM = Claim(
    name="implicit_bias",
    summary="GD and SGD converge to the minimum-norm interpolant; a diagonal linear net "
    "interpolates from min-l1 to min-l2 as its init grows (Woodworth et al. 2020)",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=dict(alpha=1.0, alpha_small=0.1, path_points=2, steps=2000),
    negative_control=dict(optimizer="adam"),
    citation="Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry, Srebro (COLT 2020); "
    "Wilson, Roelofs, Stern, Srebro, Recht (NeurIPS 2017)",
)
