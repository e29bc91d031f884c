"""Measurements of the sgd_stability claim (torch): minima found by GD/SGD and their curvature,
the exact enumeration of batch second moments, SGD simulated on the Gauss-Newton quadratic,
perturbations of minima, and full-batch GD at the edge of stability.

Nothing here compares: :func:`measure` returns a :class:`SGDMeasurement`, which the claim's
``compare`` (theorylab/claims/sgd_stability/statements.py) turns into statements. Where the
experiment's design needs the theory (the Perron start of the Monte-Carlo grid, which minimum
is predicted unstable for the escape run, the step of the sharp-minimum control) it calls
:mod:`theorylab.theory.wu2018` through its module attributes, so a planted mistake there
(theorylab.power) reaches both the design and the comparison.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from ...curvature import eigenpairs, nonuniformity
from ...data import unit_sphere
from ...errors import Inconclusive
from ...nets.mlp import (
    MLPSpec,
    forward,
    init_params,
    mean_hvp_fn,
    output_jacobian,
    per_sample_hvp_fn,
    train,
    weighted_loss_and_gradient,
)
from ...runtime import Context, run_in_lanes
from ...theory import cohen2021, wu2018
from ...train import batch_weights

# Grid of the mean-square check: step sizes f * eta for f in GRID_ETA_FACTORS, every batch
# size of the ladder.
GRID_ETA_FACTORS = (0.5, 0.75, 1.0, 1.25)
# The verdict horizon of the mean-square grid, in units of ms_steps (40 steps at the default).
VERDICT_FACTOR = 4
# escape: "leaves" = median distance grows 10x (an order of magnitude) within escape_steps.
ESCAPE_FACTOR = 10.0
PERTURBATION = 1e-3
ESCAPE_RUNS = 8
# A perturbed run whose loss passes this has overflowed (left the minimum for good).
OVERFLOW_LOSS = 1e12
# The sharp-minimum control runs GD this factor past the flattest minimum's threshold 2/a.
CONTROL_STEP_FACTOR = 1.25
# sampling_identity: exact enumeration of every batch of a small instance (first few samples).
IDENTITY_SAMPLES = 10
RANK_TOL = 1e-10
LANCZOS_TOL = 1e-10
# Edge of stability (Cohen et al. 2021 Chebyshev setup): sharpness measured every EOS_EVERY
# steps on a (1, EOS_WIDTH, 1) tanh net fitted to T_4 at EOS_POINTS points.
EOS_EVERY = 50
EOS_WIDTH = 100
EOS_POINTS = 20
# Init scale (std = scale / sqrt(fan_in)) of the edge-of-stability net: PyTorch's default
# (1/sqrt(3)) already starts at 2/eta = 20 on this data; 0.4 starts at ~2/3 of it, so the
# progressive sharpening phase is visible.
EOS_INIT_SCALE = 0.4


@dataclass
class Minimum:
    """A found minimum with its curvature (full Hessian by Lanczos; Gauss-Newton factors)."""

    label: str
    eta: float
    batch: int
    theta: torch.Tensor
    loss: float
    reached_at: int
    sharpness: float = math.nan
    s: float = math.nan
    factors: torch.Tensor | None = None  # (n, r): rows h_i with H_i = h_i h_i^T (reduced)
    gn_sharpness: float = math.nan
    products: int = 0


@dataclass
class MeanSquareRun:
    """SGD on the Gauss-Newton quadratic of one minimum over the (eta, B) grid."""

    minimum_eta: float
    grid: list[tuple[float, int]]
    checkpoint: int  # ms_steps: the rate is measured at this step
    horizon: int  # the verdict uses the growth over steps horizon // 2 .. horizon
    growth: torch.Tensor  # (horizon + 1, G): mean ||e_t||^2 / mean ||e_0||^2
    stderr: torch.Tensor  # (G,): delta-method standard error of growth[checkpoint]
    late: torch.Tensor  # (G,): mean ||e_horizon||^2 / mean ||e_{horizon//2}||^2
    late_stderr: torch.Tensor


@dataclass
class EscapeRuns:
    """Perturbations of minima under SGD/GD (median max_t ||x_t - x*|| / ||x_0 - x*||)."""

    rho_small: float  # rho(T) of the GD minimum at (eta, smallest B): the design's prediction
    growth: float | None = None  # escape from the GD minimum (None: not run, rho <= 1)
    settle: dict = field(default_factory=dict)  # where the escaped run settles
    rho_own: float = math.nan  # rho(T) of the SGD minimum of the smallest batch
    kept_growth: float | None = None  # None: not run (rho_own above the tolerance)
    control_label: str = ""  # the flattest minimum the control starts from
    control_eta: float = math.nan
    control_sharpness: float = math.nan
    control_growth: float = math.nan


@dataclass
class EdgeRun:
    """Full-batch GD on Cohen et al.'s Chebyshev problem: sharpness every EOS_EVERY steps."""

    eta: float
    steps: list[int]
    sharpness: list[float]
    losses: list[float]  # the mean loss at every step


@dataclass
class SGDMeasurement:
    n: int
    d: int
    num_params: int
    eta: float
    minima: list[Minimum]
    training: dict
    identity_hessians: torch.Tensor  # (n_e, r, r) per-sample H_i of the enumeration instance
    identity_moments: list[torch.Tensor]  # E[H_B^2] by enumeration, B = 1..n_e
    mean_square: MeanSquareRun
    escape: EscapeRuns
    edge: EdgeRun | None = None


def measure(p, ctx: Context, spectral_radius_tol: float) -> SGDMeasurement:
    """Every measurement of the claim at parameters ``p`` (see the module docstring); the
    edge-of-stability run, independent of the rest (its own streams), in a second lane."""
    lanes = run_in_lanes({
        "minima": lambda: measure_minima(p, ctx, spectral_radius_tol),
        "edge": lambda: edge_of_stability_run(p.eos_eta, p.eos_steps, ctx),
    })  # fmt: skip
    m = lanes["minima"]
    m.edge = lanes["edge"]
    return m


def measure_minima(p, ctx: Context, spectral_radius_tol: float) -> SGDMeasurement:
    """The minima, their curvature, the sampling identity, the grid and the escape runs."""
    spec = p.spec
    ds = unit_sphere(p.n, p.d, ctx)
    X, y = ctx.to(ds.X), ctx.to(ds.y)
    minima, training = find_minima(p, spec, X, y, ctx)
    for m in minima:
        measure_curvature(spec, m, X, y)
    gd_at_eta = [m for m in minima if m.batch == p.n][-1]
    sgd_minima = [m for m in minima if m.batch < p.n]
    hessians = sample_hessians(gd_at_eta.factors[:IDENTITY_SAMPLES])
    moments = [enumerate_batch_second_moment(hessians, b) for b in range(1, len(hessians) + 1)]
    return SGDMeasurement(
        n=p.n, d=p.d, num_params=spec.num_params, eta=p.eta, minima=minima, training=training,
        identity_hessians=hessians, identity_moments=moments,
        mean_square=mean_square_run(gd_at_eta, p, ctx.generator("mean_square")),
        escape=escape_runs(spec, gd_at_eta, sgd_minima, p, X, y, ctx, spectral_radius_tol),
    )  # fmt: skip


def find_minima(p, spec: MLPSpec, X, y, ctx: Context) -> tuple[list[Minimum], dict]:
    """One initialisation, GD on the step ladder and SGD on the batch ladder, trained together
    until every run is at a global minimum (mean loss <= loss_tol); a run that is not raises
    Inconclusive: it is never measured as if it were a minimum."""
    n = p.n
    theta0 = init_params(spec, ctx, "init")
    runs = [("gd", e, n) for e in p.gd_etas] + [("sgd", p.eta, b) for b in p.ladder[:-1]]
    etas = ctx.to(torch.tensor([r[1] for r in runs], dtype=torch.float64))
    trained = train(
        spec, theta0.expand(len(runs), -1), X, y, etas, [r[2] for r in runs], p.max_steps,
        ctx.generator("batches"), loss_tol=p.loss_tol, record_every=max(1, p.max_steps // 200),
    )  # fmt: skip
    final_loss = trained.loss[-1]
    minima = [
        Minimum(
            f"{kind} eta={eta:.4g} B={batch}",
            eta,
            batch,
            trained.theta[g],
            float(final_loss[g]),
            trained.reached_at[g],
        )  # fmt: skip
        for g, (kind, eta, batch) in enumerate(runs)
    ]
    missed = [f"{m.label} (loss {m.loss:.3g})" for m in minima if m.reached_at < 0]
    if missed:
        # (SGD with a tiny batch can also stall at a flat non-interpolating point.)
        raise Inconclusive(
            f"not at a global minimum (mean loss <= loss_tol = {p.loss_tol:g}) after "
            f"{p.max_steps} steps: {'; '.join(missed)}; raise --max-steps or lower --eta",
            step=p.max_steps,
        )
    training = {
        "step": trained.steps,
        "labels": [m.label for m in minima],
        "loss": trained.loss.to(torch.float64).cpu().T.tolist(),
    }
    return minima, training


def gauss_newton_factors(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Rows h_i = V_r^T grad f(x_i) in an orthonormal basis V_r of span{grad f(x_i)} (r <= n).

    At an interpolating minimum of the half-square loss, H_i = g_i g_i^T with g_i = grad f(x_i);
    in the basis V_r, H_i = h_i h_i^T and H = h^T h / n, with the same non-zero spectrum.
    Directions orthogonal to every g_i are flat for every H_i: SGD leaves them unchanged.
    """
    J = output_jacobian(spec, theta, X)  # (n, P), hand-written backpropagation
    U, S, _ = torch.linalg.svd(J.to("cpu", torch.float64), full_matrices=False)
    rank = int((S > RANK_TOL * S[0]).sum())
    return U[:, :rank] * S[:rank]  # small (n x r): kept on the CPU in float64


def sample_hessians(factors: torch.Tensor) -> torch.Tensor:
    """(n, r, r) reduced per-sample Hessians h_i h_i^T."""
    return factors[:, :, None] * factors[:, None, :]


def measure_curvature(spec, minimum: Minimum, X, y) -> None:
    """Sharpness (Lanczos, which="LA", on the full Hessian of the mean loss), non-uniformity s
    (Lanczos on Sigma, vmapped per-sample products) and the Gauss-Newton factors."""
    theta, P = minimum.theta, minimum.theta.numel()
    top = eigenpairs(mean_hvp_fn(spec, theta, X, y), P, tol=LANCZOS_TOL, like=theta)
    nu = nonuniformity(per_sample_hvp_fn(spec, theta, X, y), P, like=theta, tol=LANCZOS_TOL)
    minimum.sharpness, minimum.s = top.value, nu.s
    minimum.products = top.products + 2 * nu.eigen.products
    minimum.factors = gauss_newton_factors(spec, theta, X)
    H = minimum.factors.T @ minimum.factors / X.shape[0]
    minimum.gn_sharpness = float(torch.linalg.eigvalsh(H)[-1])


def batch_factor_for(theory: str):
    """c_B as the theory under test states it: Wu et al.'s, or 0 (the GD value; control)."""
    if theory == "gd":
        return lambda n_value, batch: 0.0
    return wu2018.batch_factor


def operator_radius(factors, eta, batch, n, c_b_fn) -> tuple[float, torch.Tensor]:
    """rho(T) and the Perron eigenmatrix of T (r x r, PSD, unit trace) at (eta, B)."""
    T = wu2018.second_moment_operator(sample_hessians(factors), eta, c_b_fn(n, batch))
    values, vectors = torch.linalg.eigh(0.5 * (T + T.T))
    j = int(values.abs().argmax())
    r = factors.shape[1]
    M = vectors[:, j].reshape(r, r)
    M = 0.5 * (M + M.T)
    M = M * (1.0 if float(torch.trace(M)) >= 0 else -1.0)
    w, V = torch.linalg.eigh(M)
    w = w.clamp_min(0.0)  # the Perron matrix of a PSD-cone-preserving T is PSD (up to rounding)
    return float(values.abs().max()), (V * w) @ V.T / w.sum()


def enumerate_batch_second_moment(hessians: torch.Tensor, batch: int) -> torch.Tensor:
    """E[H_B^2] over all C(n, B) batches, by exact enumeration (hessians (n, r, r))."""
    combos = torch.tensor(list(itertools.combinations(range(hessians.shape[0]), batch)))
    HB = hessians[combos].mean(dim=1)  # (C, r, r)
    return (HB @ HB).mean(dim=0)


def simulate_second_moment(factors, etas, batches, covariances, runs, steps, generator,
                           checkpoint):  # fmt: skip
    """SGD on the Gauss-Newton quadratic in the reduced coordinates, all grid points and runs
    at once: e_{t+1} = e_t - eta (1/B) sum_{i in batch} h_i (h_i . e_t), e_0 ~ N(0, M_g).

    Returns (growth, stderr, late, late_stderr): growth[t, g] = mean_runs ||e_t||^2 /
    mean_runs ||e_0||^2 for t = 0..steps with the delta-method standard error of that ratio at
    ``checkpoint``; and the ratio mean ||e_steps||^2 / mean ||e_{steps//2}||^2 with its
    standard error (the late-window growth).
    """
    G, (n, r) = len(etas), factors.shape
    eta_t = torch.tensor(etas, dtype=torch.float64)[:, None, None]
    size_t = torch.tensor(batches)[:, None, None]
    roots = []
    for M in covariances:
        w, V = torch.linalg.eigh(M)
        roots.append(V * w.clamp_min(0).sqrt())
    z = torch.randn(G, runs, r, generator=generator, dtype=torch.float64)
    e = torch.einsum("gij,grj->gri", torch.stack(roots), z)
    start = e.pow(2).sum(-1)
    growth, mid = [torch.ones(G, dtype=torch.float64)], start

    def ratio_and_stderr(num, den):
        ratio = num.mean(-1) / den.mean(-1)
        return ratio, (num - ratio[:, None] * den).std(-1) / (runs**0.5 * den.mean(-1))

    for t in range(1, steps + 1):
        mask = batch_weights(generator, (G, runs), n, size_t)
        e = e - eta_t * ((e @ factors.T) * mask) @ factors
        current = e.pow(2).sum(-1)
        growth.append(current.mean(-1) / start.mean(-1))
        if t == checkpoint:
            _, stderr = ratio_and_stderr(current, start)
        if t == steps // 2:
            mid = current
    late, late_stderr = ratio_and_stderr(current, mid)
    return torch.stack(growth), stderr, late, late_stderr


def mean_square_run(minimum: Minimum, p, generator) -> MeanSquareRun:
    """The grid (f eta, B) from the Perron eigenmatrix of T (as the theory under test states
    T): for it the theory predicts E||e_t||^2 = rho(T)^t E||e_0||^2 exactly (no transient)."""
    c_b_fn = batch_factor_for(p.theory)
    grid = [(f * p.eta, b) for f in GRID_ETA_FACTORS for b in p.ladder]
    covariances = [operator_radius(minimum.factors, eta, b, p.n, c_b_fn)[1] for eta, b in grid]
    horizon = VERDICT_FACTOR * p.ms_steps
    growth, stderr, late, late_se = simulate_second_moment(
        minimum.factors, [g[0] for g in grid], [g[1] for g in grid], covariances, p.runs,
        horizon, generator, p.ms_steps,
    )  # fmt: skip
    return MeanSquareRun(minimum.eta, grid, p.ms_steps, horizon, growth, stderr, late, late_se)


def perturbation_growth(spec, theta, X, y, eta, batch, steps, ctx, stream):
    """SGD (eta, batch) from theta* + PERTURBATION * (unit random direction), ESCAPE_RUNS runs
    at once. Returns the median over runs of max_t ||theta_t - theta*|| / ||theta_0 - theta*||
    (a run whose loss passes OVERFLOW_LOSS is frozen there: it has left by any measure, and its
    ratio is already huge), and the final parameters of the run that moved farthest without
    overflowing (None if every run overflowed)."""
    gen = ctx.generator(stream)
    n = X.shape[0]
    direction = torch.randn(ESCAPE_RUNS, theta.numel(), generator=gen, dtype=torch.float64)
    current = theta[None, :] + PERTURBATION * ctx.to(direction / direction.norm(dim=1)[:, None])
    worst = torch.ones(ESCAPE_RUNS, dtype=torch.float64)
    alive = torch.ones(ESCAPE_RUNS, dtype=torch.bool)
    for _ in range(steps):
        weights = ctx.to(batch_weights(gen, (ESCAPE_RUNS,), n, batch))
        _, gradient, residual = weighted_loss_and_gradient(spec, current, X, y, weights)
        loss = 0.5 * residual.pow(2).mean(-1).cpu()
        alive &= torch.isfinite(loss) & (loss < OVERFLOW_LOSS)
        step = torch.where(alive.to(current.device)[:, None], gradient, 0.0)
        current = current - eta * step
        distance = (current - theta[None, :]).norm(dim=1).to(torch.float64).cpu() / PERTURBATION
        # an overflowed run is frozen at its last iterate (loss >= OVERFLOW_LOSS, far away)
        worst = torch.where(alive, torch.maximum(worst, distance), worst)
    finite = [j for j in range(ESCAPE_RUNS) if bool(alive[j])]
    farthest = max(finite, key=lambda j: float(worst[j])) if finite else None
    return float(worst.median()), (current[farthest] if farthest is not None else None)


def escape_runs(spec, gd_min, sgd_minima, p, X, y, ctx, spectral_radius_tol) -> EscapeRuns:
    """SGD(eta, smallest B) from the GD minimum at eta when it is predicted unstable (rho(T) >
    1); from the minimum SGD found with that batch when it is predicted stable (rho(T) <= 1 +
    tol); GD 25% past the flattest minimum's threshold 2/a (the sharp-minimum control)."""
    n = p.n
    c_b = wu2018.batch_factor
    out = EscapeRuns(rho_small=operator_radius(gd_min.factors, p.eta, p.batch_size, n, c_b)[0])
    if p.batch_size < n and out.rho_small > 1.0:
        out.growth, final = perturbation_growth(spec, gd_min.theta, X, y, p.eta, p.batch_size,
                                                p.escape_steps, ctx, "escape")  # fmt: skip
        out.settle = settle(spec, final, X, y, p, ctx) if final is not None else {}
        out.settle.setdefault("escape_settled", False)
    own = next((m for m in sgd_minima if m.batch == p.batch_size), None)
    if own is not None:
        out.rho_own = operator_radius(own.factors, p.eta, own.batch, n, c_b)[0]
        if out.rho_own <= 1.0 + spectral_radius_tol:
            out.kept_growth, _ = perturbation_growth(spec, own.theta, X, y, p.eta, own.batch,
                                                     p.escape_steps, ctx, "kept")  # fmt: skip
    flat = min(sgd_minima, key=lambda m: m.sharpness) if sgd_minima else gd_min
    out.control_eta = CONTROL_STEP_FACTOR * wu2018.sharpness_bound(flat.sharpness)
    out.control_label, out.control_sharpness = flat.label, flat.sharpness
    out.control_growth, _ = perturbation_growth(spec, flat.theta, X, y, out.control_eta, n,
                                                p.escape_steps, ctx, "control")  # fmt: skip
    return out


def settle(spec, theta, X, y, p, ctx) -> dict:
    """Continue SGD from an escaped run until a global minimum; where it settles."""
    etas = ctx.to(torch.tensor([p.eta], dtype=torch.float64))
    try:
        result = train(spec, theta[None], X, y, etas, [p.batch_size], p.max_steps,
                       ctx.generator("settle"), loss_tol=p.loss_tol)  # fmt: skip
    except Inconclusive as exc:  # the escaping run may still be mid-flight and blow up
        return {"escape_settled": False, "escape_settle_failure": str(exc)}
    out = {"escape_settled": result.reached_at[0] >= 0}
    if result.reached_at[0] >= 0:
        m = Minimum("escaped", p.eta, p.batch_size, result.theta[0], float(result.loss[-1, 0]),
                    result.reached_at[0])  # fmt: skip
        measure_curvature(spec, m, X, y)
        out.update(escape_settled_sharpness=m.sharpness, escape_settled_s=m.s,
                   escape_settled_loss=m.loss)  # fmt: skip
    return out


def edge_of_stability_run(eta: float, steps: int, ctx: Context) -> EdgeRun:
    """Full-batch GD on Cohen et al.'s Chebyshev problem, sharpness tracked by Lanczos (warm
    started from the previous top eigenvector)."""
    X, y = cohen2021.chebyshev_problem(EOS_POINTS)
    X, y = ctx.to(X), ctx.to(y)
    spec = MLPSpec((1, EOS_WIDTH, 1), "tanh")
    theta = init_params(spec, ctx, "eos_init", scale=EOS_INIT_SCALE)[None]
    etas = ctx.to(torch.tensor([eta], dtype=torch.float64))
    gen = ctx.generator("eos")
    at, sharpness, losses, start = [], [], [], None
    for k in range(0, steps + 1, EOS_EVERY):
        top = eigenpairs(mean_hvp_fn(spec, theta[0], X, y), spec.num_params, v0=start,
                         tol=LANCZOS_TOL, like=theta)  # fmt: skip
        start = top.vector
        at.append(k)
        sharpness.append(top.value)
        if k == steps:
            losses.append(float(0.5 * (forward(spec, theta[0], X) - y).pow(2).mean()))
            break
        result = train(spec, theta, X, y, etas, [EOS_POINTS], EOS_EVERY, gen,
                       stop_when_reached=False)  # fmt: skip
        losses.extend(result.loss[:-1, 0].tolist())
        theta = result.theta
    return EdgeRun(eta, at, sharpness, losses)
