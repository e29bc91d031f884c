"""Soudry & Carmon (arXiv 1605.08361): measurement and comparison.

Measurement (:func:`measure`): per run, X (N x d0) ~ N(0, I), random labels y ~ N(0, 1),
noise eps_nr ~ N(1, noise_std^2) (Gaussian dropout, continuous as the theorem needs), widths
d1 = round(f N / d0); init W ~ N(0, 1/d0), z ~ N(0, 1/d1); mean loss L = 1/(2N) ||f - y||^2;
L-BFGS until ||grad L||_2 <= grad_tol or max_iters. Every (width, seed) of the ladder is one
run of a single batched L-BFGS: narrower networks are padded with all-zero units (z_r = 0,
w_r = 0 have zero output and zero gradient, so they stay zero), the gradient is the closed
form of :func:`theorylab.nets.shallow.noisy_leaky_relu_value_and_grad`, and finished runs are
not evaluated again. Then, per width, the dense Hessian's spectrum, the kink margin, the
Khatri-Rao design G and its singular values, and the gradient in W.

Comparison (:func:`compare`): zero counterexamples in the regime N <= d0 d1 (differentiable
local minima with non-zero error); interpolation at d0 d1 >= 2N; the mechanism's exact
identity grad_W L = G^T (f - y) / N and its certificate ||f - y|| <= N ||grad_W L|| /
sigma_N(G); no interpolation below the parameter count and outside the regime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...critical_points import STATUS_NAMES, batched_lbfgs, hessian_eigenvalues, loss_and_grad
from ...nets import shallow
from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...runtime import Context
from ...theory import soudry2016
from .common import L_BFGS_HISTORY, hessian_chunk

# grad_W L = G^T r / N holds exactly at every differentiable point (and with the one-sided
# slope convention at kinks too); the autograd gradient and G^T r differ by the rounding of
# sums of N d1 terms: a few ulps of ||G||_2 ||r|| (1e-18 measured in float64, 5e-9 = 40 ulps
# in float32). 1e5 ulps (2e-11 in float64) leaves orders of magnitude for larger N.
IDENTITY_ULPS = 1e5


@dataclass
class SoudryWidth:
    """Per-run measurements (arrays over the S seeds) at one hidden width d1."""

    width: int
    relative_error: np.ndarray  # ||f - y||^2 / ||y||^2
    status: list[str]
    converged: np.ndarray
    margin: np.ndarray  # min |w_r . x_n| / (||w_r|| ||x_n||)
    lambda_min: np.ndarray
    lambda_abs: np.ndarray  # max |eigenvalue| of the Hessian
    residual: np.ndarray  # (S, N): f - y
    grad_w: np.ndarray  # (S, d1 d0): grad_W L, W row-major
    design: np.ndarray  # (S, N, d1 d0): Khatri-Rao rows a_n (x) x_n
    design_sv: np.ndarray  # (S, min(N, d0 d1)): singular values of G, descending


def measure(p, ctx: Context) -> list[SoudryWidth]:
    S, N, d0 = p.seeds, p.n, p.d0
    gen = ctx.generator("soudry/data")
    X = ctx.to(torch.randn(S, N, d0, generator=gen, dtype=torch.float64))
    y = ctx.to(torch.randn(S, N, generator=gen, dtype=torch.float64))
    widths = p.widths
    noises, inits = [], []
    for d1 in widths:
        lay = shallow.noisy_leaky_relu_layout(d0, d1)
        noises.append(1 + p.noise_std * ctx.randn(S, N, d1, stream=f"soudry/noise/{d1}"))
        init = ctx.randn(S, lay.size, stream=f"soudry/init/{d1}")
        init[:, lay.slice("W")] /= math.sqrt(d0)
        init[:, lay.slice("z")] /= math.sqrt(d1)
        inits.append(init)
    result = optimise_ladder(p, X, y, noises, inits)
    D = max(widths)
    out = []
    for i, d1 in enumerate(widths):
        runs = slice(i * S, (i + 1) * S)
        theta = unpad(result.theta[runs], d0, d1, D)
        out.append(measure_width(p, X, y, noises[i], d1, theta, result, runs))
    return out


def pad(theta: torch.Tensor, d0: int, d1: int, D: int) -> torch.Tensor:
    """(S, d1 (d0 + 1)) -> (S, D (d0 + 1)): W and z extended by D - d1 all-zero units."""
    W, z = shallow.noisy_leaky_relu_layout(d0, d1).split(theta)
    W_pad = torch.cat([W, W.new_zeros(W.shape[0], D - d1, d0)], dim=1)
    z_pad = torch.cat([z, z.new_zeros(z.shape[0], D - d1)], dim=1)
    return torch.cat([W_pad.flatten(-2), z_pad], dim=-1)


def unpad(theta: torch.Tensor, d0: int, d1: int, D: int) -> torch.Tensor:
    """The inverse of :func:`pad`: the first d1 units."""
    W, z = shallow.noisy_leaky_relu_layout(d0, D).split(theta)
    return torch.cat([W[:, :d1].flatten(-2), z[:, :d1]], dim=-1)


def optimise_ladder(p, X, y, noises, inits):
    """One batched L-BFGS over every (width, seed): networks padded to the widest width D with
    all-zero units (z_r = 0, w_r = 0: zero output and zero gradient, so they stay zero), the
    closed-form gradient, and only the unfinished runs evaluated."""
    d0, widths = X.shape[-1], [n.shape[-1] for n in noises]
    D, reps = max(widths), len(widths)
    X_all, y_all = X.repeat(reps, 1, 1), y.repeat(reps, 1)
    noise_all = torch.cat([torch.cat([n, n.new_ones(*n.shape[:-1], D - n.shape[-1])], dim=-1)
                           for n in noises])  # fmt: skip
    theta0 = torch.cat([pad(init, d0, d1, D) for init, d1 in zip(inits, widths, strict=True)])

    def loss_fn(theta):
        return shallow.noisy_leaky_relu_loss(theta, X_all, y_all, noise_all, p.leak)

    def rows_loss(theta, rows):
        return shallow.noisy_leaky_relu_loss(theta, X_all[rows], y_all[rows], noise_all[rows],
                                             p.leak)  # fmt: skip

    def rows_value_and_grad(theta, rows):
        return shallow.noisy_leaky_relu_value_and_grad(theta, X_all[rows], y_all[rows],
                                                       noise_all[rows], p.leak)  # fmt: skip

    return batched_lbfgs(loss_fn, theta0, p.grad_tol, p.max_iters, L_BFGS_HISTORY,
                         rows_loss=rows_loss, rows_value_and_grad=rows_value_and_grad)  # fmt: skip


def measure_width(p, X, y, noise, d1, theta, result, runs) -> SoudryWidth:
    """Curvature, kink margin, design and gradient at the final points of width d1 (the runs
    ``runs`` of the ladder's optimisation ``result``)."""
    lay = shallow.noisy_leaky_relu_layout(p.d0, d1)

    def loss_fn(t):
        return shallow.noisy_leaky_relu_loss(t, X, y, noise, p.leak)

    with torch.no_grad():
        residual = shallow.noisy_leaky_relu_net(theta, X, noise, p.leak) - y
        margin = shallow.kink_margin(theta, X, d1)
        design = shallow.khatri_rao_design(theta, X, noise, p.leak)
        design_sv = torch.linalg.svdvals(design)  # (S, min(N, d0 d1))
    _, grad = loss_and_grad(loss_fn, theta)
    eig = hessian_eigenvalues(loss_fn, theta, hessian_chunk(p.seeds * p.n * d1))
    return SoudryWidth(
        width=d1,
        relative_error=(residual.pow(2).sum(-1) / y.pow(2).sum(-1)).cpu().numpy(),
        status=[STATUS_NAMES[int(c)] for c in result.status[runs].cpu()],
        converged=result.converged[runs].cpu().numpy(),
        margin=margin.cpu().numpy(),
        lambda_min=eig[:, 0].cpu().numpy(),
        lambda_abs=eig.abs().amax(-1).cpu().numpy(),
        residual=residual.cpu().numpy(),
        grad_w=grad[:, lay.slice("W")].cpu().numpy(),
        design=design.cpu().numpy(),
        design_sv=design_sv.cpu().numpy(),
    )


# Comparison -----------------------------------------------------------------------------------


def summarise(p, m: SoudryWidth) -> dict:
    """Counts of one width (pure): which runs are differentiable local minima, with zero error,
    with a full-rank design, and the certificate and identity values."""
    N = p.n
    zero = m.relative_error <= p.zero_tol
    smooth = m.margin > p.kink_tol
    minimum = m.converged & smooth & (m.lambda_min >= -p.hess_tol * m.lambda_abs)
    full_rank = np.zeros_like(zero)
    ratios = []
    if m.design_sv.shape[-1] == N:
        full_rank = m.design_sv[:, -1] > p.rank_rtol * m.design_sv[:, 0]
        for s in np.nonzero(full_rank & smooth)[0]:
            grad_norm = float(np.linalg.norm(m.grad_w[s]))
            bound = soudry2016.residual_bound(N, grad_norm, float(m.design_sv[s, -1]))
            ratios.append(float(np.linalg.norm(m.residual[s])) / bound if bound > 0 else 0.0)
    predicted = soudry2016.weight_gradient(m.design, m.residual, N)  # (S, d1 d0)
    scale = m.design_sv[:, 0] * np.linalg.norm(m.residual, axis=-1)
    gaps = np.linalg.norm(m.grad_w - predicted, axis=-1) / np.maximum(scale, 1e-300)
    return {
        "width": m.width,
        "in_regime": soudry2016.in_regime(N, p.d0, m.width),
        "errors": m.relative_error.tolist(),
        "statuses": m.status,
        "status_counts": {name: m.status.count(name) for name in STATUS_NAMES},
        "zero_count": int(zero.sum()),
        "zero_fraction": float(zero.mean()),
        "min_error": float(m.relative_error.min()),
        "candidates": int(minimum.sum()),
        "counterexamples": int((minimum & ~zero).sum()),
        "not_converged": int((~m.converged).sum()),
        "saddles": int((m.converged & smooth & ~minimum).sum()),
        "kinks": int((m.converged & ~smooth).sum()),
        "nonzero_not_converged": int((~m.converged & ~zero).sum()),
        "certificate_ratios": ratios,
        "identity_gap": float(gaps.max()),
        "full_rank_fraction": float(full_rank.mean()),
    }


def compare(p, widths: list[SoudryWidth], out: Comparison, eps: float = 2.0**-52) -> None:
    rows = [summarise(p, m) for m in widths]
    regime = [r for r in rows if r["in_regime"]]
    q = out.quantities
    q["soudry_widths"] = [r["width"] for r in rows]
    q["soudry_zero_error_fraction"] = [r["zero_fraction"] for r in rows]
    for r in rows:
        q[f"soudry_status_counts_d1_{r['width']}"] = r["status_counts"]
    out.statements += [
        theorem_statement(p, regime),
        interpolation_statement(p, rows),
        identity_statement(rows, q, IDENTITY_ULPS * eps),
        certificate_statement(p, regime),
        *floor_statements(p, rows),
    ]
    out.hypotheses += hypotheses(p, regime)
    out.series["soudry"] = {
        "width": [r["width"] for r in rows],
        "ratio": [p.d0 * r["width"] / p.n for r in rows],
        "zero_fraction": [r["zero_fraction"] for r in rows],
        "relative_error": [r["errors"] for r in rows],
        "status": [r["statuses"] for r in rows],
        "parameter_floor_ratio": p.d0 / (p.d0 + 1),
    }


def theorem_statement(p, regime: list[dict]) -> Statement:
    """Zero counterexamples to the theorem among the runs in the regime N <= d0 d1."""
    candidates = sum(r["candidates"] for r in regime)
    counterexamples = sum(r["counterexamples"] for r in regime)
    statement = Statement.at_most(
        "soudry_carmon",
        "runs with N <= d0 d1 ending at a differentiable local minimum with non-zero error "
        "(converged, kink margin > kink_tol, lambda_min >= -hess_tol ||H||, error > zero_tol) "
        "= 0 (Soudry & Carmon 2016, one hidden layer)",
        counterexamples, 0,
        detail=f"{candidates} differentiable local minima found among "
        f"{len(regime) * p.seeds} runs at widths {[r['width'] for r in regime]}; "
        f"{sum(r['not_converged'] for r in regime)} runs did not converge (not minima); "
        f"{sum(r['saddles'] for r in regime)} converged at a differentiable saddle; "
        f"{sum(r['kinks'] for r in regime)} converged at a kink",
    )  # fmt: skip
    if candidates == 0:
        statement.mark_not_evaluable(
            "no run reached a differentiable local minimum: nothing to test"
        )
    return statement


def interpolation_statement(p, rows: list[dict]) -> Statement:
    """Interpolation at d0 d1 >= 2N (empirical, every run)."""
    wide = [r for r in rows if p.d0 * r["width"] >= 2 * p.n]
    zero = sum(r["zero_count"] for r in wide)
    total = len(wide) * p.seeds
    budget_limited = sum(r["nonzero_not_converged"] for r in wide)
    statement = Statement.at_least(
        "soudry_carmon_interpolation",
        "fraction of runs at zero training error (||f-y||^2/||y||^2 <= zero_tol) where "
        "d0 d1 >= 2N = 1 (empirical: the theorem does not say the optimizer finds a minimum)",
        zero / total, 1.0,
        detail=f"{zero}/{total} runs at widths {[r['width'] for r in wide]}; "
        f"{budget_limited} non-zero runs stopped before converging",
    )  # fmt: skip
    if statement.holds is False and budget_limited > 0:
        statement.mark_not_evaluable("inconclusive: raise --max-iters")
    return statement


def identity_statement(rows: list[dict], q: dict, tolerance: float) -> Statement:
    """The mechanism: grad_W L = G^T (f - y) / N, exactly, at every run's final point."""
    gaps = [r["identity_gap"] for r in rows]
    q["soudry_identity_gaps"] = gaps
    return Statement.at_most(
        "soudry_carmon_mechanism",
        "max over runs ||grad_W L - G^T (f - y) / N|| / (||G||_2 ||f - y||) <= "
        f"{tolerance:.3g}: inside an activation region the output is linear in vec(W) with "
        "the Khatri-Rao design G (the proof's mechanism; exact)",
        max(gaps), tolerance, power="exact",
        detail="per width " + ", ".join(f"{r['width']}: {g:.2g}" for r, g in zip(rows, gaps,
                                                                               strict=True)),
    )  # fmt: skip


def certificate_statement(p, regime: list[dict]) -> Statement:
    """The mechanism's certificate ||f - y|| <= N ||grad_W L|| / sigma_N(G) (rank G = N)."""
    ratios = [x for r in regime for x in r["certificate_ratios"]]
    return Statement.at_most(
        "soudry_carmon_certificate",
        "max ||f-y|| / (N ||grad_W L|| / sigma_N(G)) <= 1 over differentiable runs with "
        "rank G = N (Khatri-Rao design G; exact inequality)",
        max(ratios) if ratios else math.nan, 1.0,
        detail=f"{len(ratios)} runs with rank G = N (rank_rtol {p.rank_rtol:g})",
    )  # fmt: skip


def floor_statements(p, rows: list[dict]) -> list[Statement]:
    """Below the parameter count, and outside the regime, random labels are never fitted."""
    N, d0 = p.n, p.d0
    floor = [r for r in rows if soudry2016.below_parameter_floor(N, d0, r["width"])]
    below = [r for r in rows if not soudry2016.in_regime(N, d0, r["width"])]
    out = [
        Statement.at_least(
            "parameter_count_floor",
            "min relative error ||f-y||^2/||y||^2 where d1 (d0+1) < N > zero_tol (random "
            "labels cannot be interpolated with fewer parameters than samples)",
            min(r["min_error"] for r in floor) if floor else math.nan, p.zero_tol, strict=True,
            detail=f"widths {[r['width'] for r in floor]} "
            f"(parameters {[soudry2016.parameter_count(d0, r['width']) for r in floor]} < {N})",
        ),
        # The sharper floor N > d0 d1 (rank of the output map after removing the d1 rescaling
        # symmetries): outside the theorem's regime.
        Statement.at_least(
            "effective_dimension_floor",
            "min relative error outside the regime (N > d0 d1) > zero_tol (the output map has "
            "rank <= d0 d1: each unit's rescaling w -> c w, z -> z/c is a symmetry)",
            min(r["min_error"] for r in below) if below else math.nan, p.zero_tol, strict=True,
            detail=f"widths {[r['width'] for r in below]} (d0 d1 = "
            f"{[soudry2016.effective_dimension(d0, r['width']) for r in below]} < {N})",
        ),
    ]  # fmt: skip
    for statement, group in zip(out, (floor, below), strict=True):
        if not group:
            statement.mark_not_evaluable("no width of the ladder is in this range")
    return out


def hypotheses(p, regime: list[dict]) -> list[Hypothesis]:
    return [
        Hypothesis(
            "soudry_leaky_activation", "sigma is leaky ReLU with a non-zero negative slope",
            p.leak > 0, f"leak = {p.leak}",
        ),
        Hypothesis(
            "soudry_dropout_noise",
            "fixed multiplicative noise from a continuous distribution (makes the design "
            "generic)", p.noise_std > 0, f"eps ~ N(1, {p.noise_std}^2), one draw per run",
        ),
        Hypothesis(
            "soudry_regime", "N <= d0 d1 for some width of the ladder", bool(regime),
            f"N = {p.n}, d0 = {p.d0}; widths in the regime: {[r['width'] for r in regime]}",
        ),
        Hypothesis(
            "soudry_generic_data", "inputs and labels from continuous distributions", True,
            "X ~ N(0, I), y ~ N(0, 1)",
        ),
    ]  # fmt: skip
