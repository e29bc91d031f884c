"""Finding and certifying critical points of many small losses at once.

A *batched loss* maps parameters theta (S, P) (one row per independent run) to losses (S,),
each row depending only on its own parameters. Then the gradient of sum_s L_s is the stack of
the per-run gradients, and its Hessian is block diagonal with the per-run Hessians as blocks,
so every run is optimised and differentiated in one computation.

- :func:`batched_lbfgs`: full-batch L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) run on all
  rows together: per-run directions from the compact representation of the inverse Hessian
  approximation (Byrd, Nocedal & Schnabel 1994; the two-loop recursion's result in a few
  batched matrix products) on a shared ring buffer of (s, y) pairs with per-run validity
  masks, per-run Armijo backtracking. A run stops when ||grad L_s||_2 <=
  grad_tol (converged), when its line search cannot decrease the loss twice in a row from a
  fresh steepest-descent direction (stalled: typical at a kink of a piecewise-linear net or at
  the rounding floor), or at the iteration budget; non-finite losses are flagged.
- :func:`dense_hessians`: the exact per-run Hessians (S, P, P), column j of every run at once
  as the Hessian-vector product of sum_s L_s along e_j in every row, by the curvature
  engine's batched double-backward products (:func:`theorylab.curvature.batched_hvp_fn`);
  :func:`smallest_hessian_eigenvalues` takes their smallest eigenvalue.
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

from . import curvature

BatchedLoss = Callable[[torch.Tensor], torch.Tensor]

STATUS_CONVERGED, STATUS_STALLED, STATUS_BUDGET, STATUS_NONFINITE = 0, 1, 2, 3
STATUS_NAMES = ("converged", "stalled", "budget", "nonfinite")
ARMIJO_C1 = 1e-4
# Armijo's sufficient decrease is tested up to this many ulps of |f|: near a minimum the
# predicted decrease falls below float resolution and an exact test rejects every step.
ARMIJO_ULPS = 8
MAX_BACKTRACKS = 20
# The line search gives up below this step (20 halvings of the unit step).
MIN_STEP = 0.5**MAX_BACKTRACKS
HESSIAN_CHUNK = 32
# rows_loss(theta_rows (R, P), rows (R,) indices) -> losses (R,): the batched loss of a subset
# of the runs (their own data), so finished runs are not evaluated again
RowsLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# rows_value_and_grad(theta_rows, rows) -> (losses (R,), gradients (R, P)), e.g. a closed form
RowsValueAndGrad = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


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


def _backtrack(step, f_step, f0, slope):
    """The next trial step after an Armijo failure at ``step``: the minimiser of the quadratic
    through f(0) = f0, f'(0) = slope and f(step) = f_step, kept within [step/10, step/2]
    (Nocedal & Wright 2006, Sec. 3.5); step/2 where f(step) is not finite. Never below
    MIN_STEP, where the search stops."""
    curvature = f_step - f0 - slope * step
    quadratic = -slope * step * step / (2 * curvature)
    trial = torch.clamp(torch.minimum(quadratic, 0.5 * step), min=0.1 * step)
    trial = torch.where(torch.isfinite(f_step) & (curvature > 0), trial, 0.5 * step)
    return trial.clamp_min(MIN_STEP)


def _compact_direction(g, S_hist, Y_hist, valid, order, gamma):
    """H_k g in the compact representation of Byrd, Nocedal & Schnabel (1994, Thm 2.3), per
    run, with a handful of batched matrix products instead of the two-loop's 2m vector steps:

        H_k = gamma I + [S, gamma Y] [[R^-T (D + gamma Y^T Y) R^-1, -R^-T], [-R^-1, 0]]
                                     [S^T; gamma Y^T],

    S, Y (P x m) the stored pairs oldest first, R the upper triangle of S^T Y, D its diagonal.
    The products with the (runs, slots, P) history are taken in slot order; only the small
    (slots x slots) matrices are permuted to time order. An invalid or unused slot is masked
    out of them with R_ii = 1, so it carries nothing, as if skipped. Equal to
    :func:`_two_loop` in exact arithmetic.
    """
    if not order:
        return gamma[:, None] * g
    h = S_hist.shape[1]
    perm = torch.tensor(order + [i for i in range(h) if i not in order], device=g.device)
    v = valid[:, perm].clone()  # (S, h), time order, unused slots last
    v[:, len(order) :] = 0.0
    pair = v[:, :, None] * v[:, None, :]
    SY = (S_hist @ Y_hist.transpose(-1, -2))[:, perm][:, :, perm] * pair
    YY = (Y_hist @ Y_hist.transpose(-1, -2))[:, perm][:, :, perm] * pair
    p1 = (S_hist @ g[..., None])[:, perm] * v[..., None]  # (S, h, 1)
    p2 = (Y_hist @ g[..., None])[:, perm] * v[..., None]
    R = torch.triu(SY) + torch.diag_embed(1.0 - v)
    D = torch.diag_embed(torch.diagonal(SY, dim1=-2, dim2=-1))
    gam = gamma[:, None, None]
    t = torch.linalg.solve_triangular(R, p1, upper=True)
    u = torch.linalg.solve_triangular(R.transpose(-1, -2), (D + gam * YY) @ t - gam * p2,
                                      upper=False)  # fmt: skip
    back = torch.empty_like(perm)
    back[perm] = torch.arange(h, device=g.device)
    correction = S_hist.transpose(-1, -2) @ u[:, back]
    correction = correction - Y_hist.transpose(-1, -2) @ (gam * t)[:, back]
    return gamma[:, None] * g + correction[..., 0]


def batched_lbfgs(
    loss_fn: BatchedLoss,
    theta0: torch.Tensor,
    grad_tol: float,
    max_iters: int,
    history: int = 10,
    rows_loss: RowsLoss | None = None,
    rows_value_and_grad: RowsValueAndGrad | None = None,
) -> OptimisationResult:
    """Minimise every row's loss by L-BFGS until ||grad||_2 <= grad_tol or ``max_iters``.

    Runs are independent (their own curvature pairs, step lengths and stopping); finished
    runs are frozen while the others continue, so the batch costs as many iterations as its
    slowest run. Deterministic: no randomness, fixed operation order. With ``rows_loss`` (the
    same loss on a subset of the runs) only the runs that need a value are evaluated: the
    active ones at a trial step, the still-searching ones in the backtracking; every run's
    result is the full evaluation's up to rounding (rows do not interact).
    ``rows_value_and_grad`` (with ``rows_loss``) gives losses and gradients of a subset of the
    runs in closed form instead of by autograd.

    Example (a separable quadratic 1/2 sum_i c_i x_i^2 is solved to the tolerance):
        >>> c = torch.tensor([[1.0, 10.0], [2.0, 0.5]], dtype=torch.float64)
        >>> res = batched_lbfgs(lambda x: 0.5 * (c * x * x).sum(-1), torch.ones(2, 2,
        ...     dtype=torch.float64), grad_tol=1e-10, max_iters=100)
        >>> bool(res.converged.all()), float(res.theta.abs().max()) < 1e-9
        (True, True)
    """
    x = theta0.detach().clone()
    S, P = x.shape
    evaluate = _evaluator(loss_fn, rows_loss, rows_value_and_grad, S, x.device)
    f, g = evaluate(x, torch.ones(S, dtype=torch.bool, device=x.device))
    evaluations = 1
    device = x.device
    S_hist = x.new_zeros(S, history, P)
    Y_hist = x.new_zeros(S, history, P)
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
        stop(g.norm(dim=-1) <= grad_tol, STATUS_CONVERGED)
        if not bool(active.any()):
            break
        d, slope, valid = _search_direction(g, active, S_hist, Y_hist, valid, order, gamma)
        step, accepted, f_new, g_new, calls = _line_search(evaluate, x, d, f, slope, active)
        evaluations += calls
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
        valid[:, slot] = torch.where(keep, 1.0, torch.where(moved, 0.0, valid[:, slot]))
        gamma = torch.where(keep, sy / torch.where(keep, (y_vec * y_vec).sum(-1), 1.0), gamma)
        if slot in order:
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


def _evaluator(loss_fn, rows_loss, rows_value_and_grad, S: int, device):
    """evaluate(t, rows, gradients=True) -> (losses (S,), gradients (S, P) or None) of the
    runs selected by the bool mask ``rows`` (the others: nan losses, zero gradients), on those
    runs only when ``rows_loss`` is given."""
    all_rows = torch.arange(S, device=device)

    def evaluate(t, rows, gradients=True):
        if rows_loss is None or bool(rows.all()):
            fn, sub, index = loss_fn, t, all_rows
        else:
            index = torch.nonzero(rows)[:, 0]
            sub = t[index]

            def fn(u):
                return rows_loss(u, index)

        if gradients and rows_value_and_grad is not None:
            values, grads = rows_value_and_grad(sub, index)
        elif gradients:
            values, grads = loss_and_grad(fn, sub)
        else:
            with torch.no_grad():
                values, grads = fn(sub), None
        if sub is t:
            return values, grads
        full = torch.full((S,), torch.nan, dtype=t.dtype, device=t.device)
        full[rows] = values
        if grads is None:
            return full, None
        full_g = torch.zeros_like(t)
        full_g[rows] = grads
        return full, full_g

    return evaluate


def _search_direction(g, active, S_hist, Y_hist, valid, order, gamma):
    """(d, slope g.d, valid): the L-BFGS direction of every active run (finished runs need
    none: zero); where it is not a descent direction, or there is no history yet, a scaled
    steepest-descent step with the run's history reset."""
    if bool(active.all()):
        d = -_compact_direction(g, S_hist, Y_hist, valid, order, gamma)
    else:
        run = torch.nonzero(active)[:, 0]
        d = torch.zeros_like(g)
        d[run] = -_compact_direction(g[run], S_hist[run], Y_hist[run], valid[run], order,
                                     gamma[run])  # fmt: skip
    slope = (d * g).sum(-1)
    bad = ~(slope < 0) | (valid.sum(-1) == 0)
    if bool(bad.any()):
        gnorm = g.norm(dim=-1)
        steepest = -g / gnorm.clamp_min(1e-300)[:, None] * gnorm.clamp_max(1.0)[:, None]
        d = torch.where(bad[:, None], steepest, d)
        valid = torch.where(bad[:, None], torch.zeros_like(valid), valid)
        slope = (d * g).sum(-1)
    return d, slope, valid


def _line_search(evaluate, x, d, f, slope, active):
    """Armijo backtracking per run: (step, accepted, f_new, g_new, evaluations). The unit step
    is tried with gradients (accepted most of the time); further trials with losses only, by
    safeguarded quadratic interpolation (:func:`_backtrack`) down to MIN_STEP; the gradient at
    a later accepted step costs one more call. Armijo's decrease is tested up to ARMIJO_ULPS
    ulps of |f|."""
    step = active.to(x.dtype)
    rounding = ARMIJO_ULPS * torch.finfo(x.dtype).eps * f.abs()
    f_new, g_new = evaluate(x + step[:, None] * d, active)
    calls = 1
    accepted = ~active | (
        torch.isfinite(f_new) & (f_new <= f + ARMIJO_C1 * step * slope + rounding)
    )
    late = torch.zeros_like(accepted)
    searching, f_last = ~accepted, f_new
    for _ in range(MAX_BACKTRACKS):
        if not bool(searching.any()):
            break
        step = torch.where(searching, _backtrack(step, f_last, f, slope), step)
        f_try, _ = evaluate(x + step[:, None] * d, searching, gradients=False)
        calls += 1
        ok = torch.isfinite(f_try) & (f_try <= f + ARMIJO_C1 * step * slope + rounding) & searching
        late = late | ok
        accepted = accepted | ok
        f_last = torch.where(searching, f_try, f_last)
        searching = searching & ~ok & (step > MIN_STEP)
    if bool(late.any()):
        f_late, g_late = evaluate(x + step[:, None] * d, late)
        calls += 1
        f_new = torch.where(late, f_late, f_new)
        g_new = torch.where(late[:, None], g_late, g_new)
    return step, accepted, f_new, g_new, calls


def dense_hessians(
    loss_fn: BatchedLoss, theta: torch.Tensor, chunk_size: int | None = HESSIAN_CHUNK
) -> torch.Tensor:
    """Exact per-run Hessians (S, P, P) of a batched loss.

    Column j of every run's Hessian is the Hessian-vector product of sum_s L_s along the
    direction e_j in every row at once (the blocks do not interact): ``chunk_size`` columns
    per vectorised double-backward pass of :func:`theorylab.curvature.batched_hvp_fn` on a
    gradient graph built once.

    Example (1/2 x^T A x has Hessian A):
        >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
        >>> H = dense_hessians(lambda x: 0.5 * ((x @ A) * x).sum(-1), torch.zeros(1, 2,
        ...     dtype=torch.float64))
        >>> bool(torch.equal(H[0], A))
        True
    """
    S, P = theta.shape
    product = curvature.batched_hvp_fn(lambda t: loss_fn(t).sum(), theta.detach())
    chunk = P if chunk_size is None else chunk_size
    columns = []
    for lo in range(0, P, chunk):
        hi = min(P, lo + chunk)
        E = torch.zeros(hi - lo, S, P, dtype=theta.dtype, device=theta.device)
        E[torch.arange(hi - lo), :, torch.arange(lo, hi)] = 1.0
        columns.append(product(E))  # (m, S, P): [j, s, :] = H_s e_j
    H = torch.cat(columns).permute(1, 2, 0)
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
    """H_s v_s for every run (S, P), without forming any Hessian (one product of the
    curvature engine on sum_s L_s: the blocks do not interact)."""
    return curvature.hvp_fn(lambda t: loss_fn(t).sum(), theta.detach())(v)


def smallest_eigenvalue_lanczos(
    loss_fn: BatchedLoss, theta: torch.Tensor, run: int, tol: float = 1e-10
) -> float:
    """lambda_min of run ``run``'s Hessian by Lanczos (which="SA") on Hessian-vector products,
    through :func:`theorylab.curvature.hessian_eigenpairs`; memory O(P) instead of the dense
    Hessian's O(P^2)."""
    others = theta.detach()

    def run_loss(t: torch.Tensor) -> torch.Tensor:
        return loss_fn(torch.cat([others[:run], t[None], others[run + 1 :]]))[run]

    return curvature.hessian_eigenpairs(run_loss, others[run], which="SA", tol=tol).value
