"""Finding and certifying critical points of many small losses at once.

A *batched loss* maps parameters theta (S, P) (one row per independent run) to losses (S,),
each row depending only on its own parameters. Then the gradient of sum_s L_s is the stack of
the per-run gradients, and its Hessian is block diagonal with the per-run Hessians as blocks,
so every run is optimised and differentiated in one computation.

- :func:`batched_lbfgs`: full-batch L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) run on all
  rows together: per-run two-loop recursion on a shared ring buffer of (s, y) pairs with
  per-run validity masks, per-run Armijo backtracking. A run stops when ||grad L_s||_2 <=
  grad_tol (converged), when its line search cannot decrease the loss twice in a row from a
  fresh steepest-descent direction (stalled: typical at a kink of a piecewise-linear net or at
  the rounding floor), or at the iteration budget; non-finite losses are flagged.
- :func:`dense_hessians`: the exact per-run Hessians (S, P, P) by forward-over-reverse
  differentiation (torch.func.jvp of torch.func.grad) along the P coordinate directions,
  vmapped; :func:`smallest_hessian_eigenvalues` takes their smallest eigenvalue.
- :func:`smallest_eigenvalue_lanczos`: the same number for one run from Hessian-vector
  products only (Lanczos, which="SA", via theorylab.curvature), for models too large for P^2.

Certification of a local minimum (second-order necessary conditions, Nocedal & Wright Thm 2.3):
||grad L|| <= grad_tol and lambda_min(Hess L) >= -hess_tol. At a smooth point these two with a
positive-definite Hessian are sufficient; a zero eigenvalue (continuous symmetries such as the
rescaling w -> c w, z -> z / c of a positively homogeneous unit) leaves the certificate
second-order only, which is the sense in which such minima are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.func import grad, jvp, vmap

from .curvature import hessian_eigenpairs

BatchedLoss = Callable[[torch.Tensor], torch.Tensor]

STATUS_CONVERGED, STATUS_STALLED, STATUS_BUDGET, STATUS_NONFINITE = 0, 1, 2, 3
STATUS_NAMES = ("converged", "stalled", "budget", "nonfinite")
ARMIJO_C1 = 1e-4
# Armijo's sufficient decrease is tested up to this many ulps of |f|: near a minimum the
# predicted decrease falls below float resolution and an exact test rejects every step.
ARMIJO_ULPS = 8
MAX_BACKTRACKS = 20
HESSIAN_CHUNK = 32


@dataclass
class OptimisationResult:
    """Final state of each run: theta (S, P); loss, grad_norm (S,); iterations, status (S,)
    (status codes index :data:`STATUS_NAMES`); evaluations: batched loss+gradient calls."""

    theta: torch.Tensor
    loss: torch.Tensor
    grad_norm: torch.Tensor
    iterations: torch.Tensor
    status: torch.Tensor
    evaluations: int

    @property
    def converged(self) -> torch.Tensor:
        return self.status == STATUS_CONVERGED


def loss_and_grad(loss_fn: BatchedLoss, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-run losses (S,) and gradients (S, P): one backward pass through sum_s L_s."""
    with torch.enable_grad():
        x = theta.detach().requires_grad_(True)
        losses = loss_fn(x)
        (g,) = torch.autograd.grad(losses.sum(), x)
    return losses.detach(), g.detach()


def _two_loop(g, S_hist, Y_hist, rho, valid, order, gamma):
    """H_k g by the L-BFGS two-loop recursion, per run; invalid pairs contribute nothing."""
    q = g.clone()
    alphas = []
    for i in reversed(order):
        a = rho[:, i] * (S_hist[:, i] * q).sum(-1) * valid[:, i]
        q = q - a[:, None] * Y_hist[:, i]
        alphas.append((i, a))
    r = gamma[:, None] * q
    for i, a in reversed(alphas):
        b = rho[:, i] * (Y_hist[:, i] * r).sum(-1) * valid[:, i]
        r = r + S_hist[:, i] * ((a - b) * valid[:, i])[:, None]
    return r


def batched_lbfgs(
    loss_fn: BatchedLoss,
    theta0: torch.Tensor,
    grad_tol: float,
    max_iters: int,
    history: int = 10,
) -> OptimisationResult:
    """Minimise every row's loss by L-BFGS until ||grad||_2 <= grad_tol or ``max_iters``.

    Runs are independent (their own curvature pairs, step lengths and stopping); finished
    runs are frozen while the others continue, so the batch costs as many iterations as its
    slowest run. Deterministic: no randomness, fixed operation order.

    Example (a separable quadratic 1/2 sum_i c_i x_i^2 is solved to the tolerance):
        >>> c = torch.tensor([[1.0, 10.0], [2.0, 0.5]], dtype=torch.float64)
        >>> res = batched_lbfgs(lambda x: 0.5 * (c * x * x).sum(-1), torch.ones(2, 2,
        ...     dtype=torch.float64), grad_tol=1e-10, max_iters=100)
        >>> bool(res.converged.all()), float(res.theta.abs().max()) < 1e-9
        (True, True)
    """
    x = theta0.detach().clone()
    S, P = x.shape
    f, g = loss_and_grad(loss_fn, x)
    evaluations = 1
    dtype, device = x.dtype, x.device
    S_hist = x.new_zeros(S, history, P)
    Y_hist = x.new_zeros(S, history, P)
    rho = x.new_zeros(S, history)
    valid = x.new_zeros(S, history)
    gamma = x.new_ones(S)
    iterations = torch.zeros(S, dtype=torch.long, device=device)
    status = torch.full((S,), STATUS_BUDGET, dtype=torch.long, device=device)
    active = torch.ones(S, dtype=torch.bool, device=device)
    fails = torch.zeros(S, dtype=torch.long, device=device)
    order: list[int] = []
    slot = 0

    def stop(mask, code):
        nonlocal active
        status[mask & active] = code
        active = active & ~mask

    stop(~torch.isfinite(f) | ~torch.isfinite(g).all(-1), STATUS_NONFINITE)
    for _ in range(max_iters):
        gnorm = g.norm(dim=-1)
        stop(gnorm <= grad_tol, STATUS_CONVERGED)
        if not bool(active.any()):
            break
        d = -_two_loop(g, S_hist, Y_hist, rho, valid, order, gamma)
        slope = (d * g).sum(-1)
        # Not a descent direction (or no history yet): scaled steepest descent, history reset.
        bad = ~(slope < 0) | (valid.sum(-1) == 0)
        if bool(bad.any()):
            steepest = (
                -g
                / gnorm.clamp_min(1e-300)[:, None]
                * torch.minimum(gnorm, torch.ones_like(gnorm))[:, None]
            )
            d = torch.where(bad[:, None], steepest, d)
            valid = torch.where(bad[:, None], torch.zeros_like(valid), valid)
            slope = (d * g).sum(-1)
        step = torch.where(active, torch.ones(S, dtype=dtype, device=device), 0.0)
        rounding = ARMIJO_ULPS * torch.finfo(dtype).eps * f.abs()
        # Trial 1 (the unit step, accepted most of the time) with gradients; backtracking
        # trials with losses only; the gradient at a later accepted step costs one more call.
        f_new, g_new = loss_and_grad(loss_fn, x + step[:, None] * d)
        evaluations += 1
        accepted = ~active | (
            torch.isfinite(f_new) & (f_new <= f + ARMIJO_C1 * step * slope + rounding)
        )
        late = torch.zeros_like(accepted)
        for _ in range(MAX_BACKTRACKS):
            if bool(accepted.all()):
                break
            step = torch.where(accepted, step, 0.5 * step)
            with torch.no_grad():
                f_try = loss_fn(x + step[:, None] * d)
            evaluations += 1
            ok = (
                torch.isfinite(f_try)
                & (f_try <= f + ARMIJO_C1 * step * slope + rounding)
                & ~accepted
            )
            late = late | ok
            accepted = accepted | ok
        if bool(late.any()):
            f_late, g_late = loss_and_grad(loss_fn, x + step[:, None] * d)
            evaluations += 1
            f_new = torch.where(late, f_late, f_new)
            g_new = torch.where(late[:, None], g_late, g_new)
        moved = accepted & active
        # Runs whose line search failed: retry from steepest descent once, then stall.
        failed = active & ~accepted
        fails = torch.where(failed, fails + 1, torch.zeros_like(fails))
        valid = torch.where(failed[:, None], torch.zeros_like(valid), valid)
        stop(fails >= 2, STATUS_STALLED)
        s_vec = torch.where(moved[:, None], step[:, None] * d, torch.zeros_like(d))
        y_vec = g_new - g
        sy = (s_vec * y_vec).sum(-1)
        keep = moved & (sy > 1e-12 * s_vec.norm(dim=-1) * y_vec.norm(dim=-1))
        S_hist[:, slot] = torch.where(keep[:, None], s_vec, S_hist[:, slot])
        Y_hist[:, slot] = torch.where(keep[:, None], y_vec, Y_hist[:, slot])
        rho[:, slot] = torch.where(keep, 1.0 / torch.where(keep, sy, 1.0), rho[:, slot])
        valid[:, slot] = torch.where(keep, 1.0, torch.where(moved, 0.0, valid[:, slot]))
        gamma = torch.where(keep, sy / torch.where(keep, (y_vec * y_vec).sum(-1), 1.0), gamma)
        if slot not in order:
            order.append(slot)
        else:
            order.remove(slot)
            order.append(slot)
        slot = (slot + 1) % history
        x = torch.where(moved[:, None], x + s_vec, x)
        f = torch.where(moved, f_new, f)
        g = torch.where(moved[:, None], g_new, g)
        iterations = iterations + moved.long()
        stop(~torch.isfinite(f) | ~torch.isfinite(g).all(-1), STATUS_NONFINITE)
    stop(g.norm(dim=-1) <= grad_tol, STATUS_CONVERGED)
    return OptimisationResult(x, f, g.norm(dim=-1), iterations, status, evaluations)


def dense_hessians(
    loss_fn: BatchedLoss, theta: torch.Tensor, chunk_size: int | None = HESSIAN_CHUNK
) -> torch.Tensor:
    """Exact per-run Hessians (S, P, P) of a batched loss.

    Column j of every run's Hessian is the Hessian-vector product of sum_s L_s along the
    direction e_j in every row at once (the blocks do not interact), computed as
    jvp(grad(sum L), theta; e_j) and vmapped over j, ``chunk_size`` directions at a time
    (memory: chunk_size copies of the batch's forward intermediates).

    Example (1/2 x^T A x has Hessian A):
        >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
        >>> H = dense_hessians(lambda x: 0.5 * ((x @ A) * x).sum(-1), torch.zeros(1, 2,
        ...     dtype=torch.float64))
        >>> bool(torch.equal(H[0], A))
        True
    """
    S, P = theta.shape
    grad_sum = grad(lambda t: loss_fn(t).sum())
    basis = torch.eye(P, dtype=theta.dtype, device=theta.device)
    directions = basis[:, None, :].expand(P, S, P)

    def column(v):
        return jvp(grad_sum, (theta.detach(),), (v,))[1]

    columns = vmap(column, chunk_size=chunk_size)(directions)  # (P, S, P): [j, s, :] = H_s e_j
    H = columns.permute(1, 2, 0)
    return 0.5 * (H + H.transpose(-1, -2))


def hessian_eigenvalues(
    loss_fn: BatchedLoss, theta: torch.Tensor, chunk_size: int | None = HESSIAN_CHUNK
) -> torch.Tensor:
    """All eigenvalues of every run's Hessian, ascending (S, P), computed in float64 (a
    float32 run's Hessian is promoted before eigvalsh); rows whose Hessian is not finite are
    NaN, so they can never certify a minimum."""
    H = dense_hessians(loss_fn, theta, chunk_size).to(torch.float64)
    finite = torch.isfinite(H).flatten(-2).all(-1)
    values = torch.linalg.eigvalsh(torch.where(finite[:, None, None], H, 0.0))
    return torch.where(finite[:, None], values, torch.nan)


def hessian_extreme_eigenvalues(loss_fn: BatchedLoss, theta: torch.Tensor) -> torch.Tensor:
    """(lambda_min, lambda_max) of every run's Hessian (S, 2), dense Hessian and eigvalsh."""
    values = hessian_eigenvalues(loss_fn, theta)
    return torch.stack([values[:, 0], values[:, -1]], dim=-1)


def smallest_hessian_eigenvalues(loss_fn: BatchedLoss, theta: torch.Tensor) -> torch.Tensor:
    """lambda_min of every run's Hessian (S,), from :func:`dense_hessians` and eigvalsh."""
    return hessian_extreme_eigenvalues(loss_fn, theta)[:, 0]


def hessian_vector_product(loss_fn: BatchedLoss, theta: torch.Tensor, v: torch.Tensor):
    """H_s v_s for every run (S, P), forward-over-reverse, without forming any Hessian."""
    grad_sum = grad(lambda t: loss_fn(t).sum())
    return jvp(grad_sum, (theta.detach(),), (v,))[1]


def smallest_eigenvalue_lanczos(
    loss_fn: BatchedLoss, theta: torch.Tensor, run: int, tol: float = 1e-10
) -> float:
    """lambda_min of run ``run``'s Hessian by Lanczos (which="SA") on Hessian-vector products,
    through :func:`theorylab.curvature.hessian_eigenpairs`; memory O(P) instead of the dense
    Hessian's O(P^2)."""
    others = theta.detach()

    def run_loss(t: torch.Tensor) -> torch.Tensor:
        return loss_fn(torch.cat([others[:run], t[None], others[run + 1 :]]))[run]

    return hessian_eigenpairs(run_loss, others[run], which="SA", tol=tol).value
