"""no_bad_minima: over-parameterized nets have no bad differentiable local minima; exact-size
nets do (Soudry & Carmon 2016; Nguyen & Hein 2017; Safran & Shamir 2018).

Statements:

- Soudry & Carmon (arXiv 1605.08361, one hidden layer): leaky ReLU with a fixed dropout-like
  multiplicative noise realisation, single output, quadratic loss. If N <= d0 d1, then for
  almost every data set and noise every *differentiable* local minimum has zero training error.
- Nguyen & Hein (ICML 2017, main result of Sec. 3 with k = 1): analytic strictly increasing
  activation, n_1 >= N, pyramidal after layer 1: a critical point with rank(F_1) = N and
  full-column-rank W_l (l >= 3) is a global minimum.
- Safran & Shamir (ICML 2018): for the teacher-student ReLU net sum_j relu(w_j.x) with
  x ~ N(0, I) and an orthonormal teacher of k units, the population loss has spurious local
  minima, found by GD from random initialisation more and more often for k >= 6 when the
  student has exactly k units; over-parameterized students find them far less often.

Setting (all runs of one width trained as one batched computation, float64):

1. Soudry & Carmon: per run, X (N x d0) ~ N(0, I), random labels y ~ N(0, 1), noise
   eps_nr ~ N(1, noise_std^2) (Gaussian dropout, continuous as the theorem needs), widths
   d1 = round(f N / d0) for f in ``width_factors``; init W ~ N(0, 1/d0), z ~ N(0, 1/d1); mean
   loss L = 1/(2N) ||f - y||^2; L-BFGS until ||grad L||_2 <= grad_tol or max_iters.
2. Nguyen & Hein: same kind of data, widths d0 -> n1 -> n2 -> 1 with biases, tanh (or
   softplus), Glorot-normal init, the same mean loss and optimiser.
3. Safran & Shamir: teacher V = first k rows of I_d, students of width f k for f in
   ``student_factors``, init w ~ N(0, I/d), the exact population loss
   1/2 E_x[(f_W(x) - f_V(x))^2] (arc-cosine kernel), L-BFGS to population_grad_tol.

Measurement: per run the final loss, gradient norm, optimiser status (converged / stalled /
iteration budget / non-finite: not-converged runs are counted apart from minima), the dense
Hessian's smallest eigenvalue (torch.func), the distance to the nearest kink, and the ranks
the theorems name (SVD with relative tolerance rank_rtol).

Comparisons (see :func:`run`): zero counterexamples to each theorem among the runs that
satisfy its hypotheses; interpolation at d0 d1 >= 2N; the parameter-count floor; exact
residual certificates from the proofs' mechanism (with slack); and the contrast: certified
spurious minima (gradient <= tol, lambda_min >= -hess_tol ||H||, loss > tol) at student
width k, none at the widest student.

Negative control: ``--student-factors 1`` makes the widest student exact-size; the
"no_spurious_minima_wide" statement then sees the spurious minima and is violated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..critical_points import (
    STATUS_NAMES,
    batched_lbfgs,
    hessian_eigenvalues,
    loss_and_grad,
)
from ..errors import UsageError
from ..nets import shallow
from ..registry import Claim, param
from ..report import Hypothesis, Report, Statement
from ..runtime import Context
from ..theory import nguyen2017, soudry2016

# Bytes a dense-Hessian chunk may use (forward intermediates of chunk_size directions).
HESSIAN_MEMORY = 2**28
L_BFGS_HISTORY = 10
# Safran & Shamir report spurious minima becoming common from k = 6 teacher units.
SPURIOUS_TEACHER_MIN = 6
# Relative error of a sum of float64 terms: floor for the zero-error tolerance.
ZERO_TOL_FLOOR = 1e-14


def _factors(text: str, name: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise UsageError(f"{name} must be positive numbers, got {text!r}")
    if len(set(values)) != len(values):
        raise UsageError(f"{name} has repeated values: {text!r}")
    return tuple(sorted(values))


@dataclass(frozen=True)
class Params:
    n: int = param(60, "training points N (Soudry-Carmon and Nguyen-Hein nets)", 2, 2000)
    d0: int = param(6, "input dimension d0", minimum=1, maximum=1000)
    seeds: int = param(16, "independent runs per width (data, noise, init)", 1, 4096)
    width_factors: str = param(
        "0.5,1,1.5,2",
        "Soudry-Carmon hidden widths d1 = round(f N/d0) for these f (the regime is f >= 1)",
    )
    leak: float = param(0.1, "leaky-ReLU negative slope (0 = ReLU)", minimum=0.0, maximum=0.99)
    noise_std: float = param(
        0.5, "std of the multiplicative noise eps ~ N(1, s^2) (0 = no noise)", 0.0, 10.0
    )
    nh_first_width: int | None = param(
        None, "Nguyen-Hein first hidden width n1 (default N)", minimum=1, maximum=100000
    )
    nh_second_width: int | None = param(
        None, "Nguyen-Hein second hidden width n2 (default d0)", minimum=1, maximum=100000
    )
    activation: str = param(
        "tanh", "Nguyen-Hein activation (analytic, strictly increasing)",
        choices=shallow.SMOOTH_ACTIVATIONS,
    )  # fmt: skip
    teacher_units: int = param(10, "teacher width k (Safran-Shamir)", minimum=1, maximum=256)
    teacher_dim: int | None = param(
        None, "teacher-student input dimension d (default k)", minimum=1, maximum=1024
    )
    student_factors: str = param(
        "1,2,4", "student widths f k for these integers f (smallest must be 1)"
    )
    grad_tol: float = param(
        1e-8, "convergence: ||grad L||_2 <= this (mean loss, Soudry-Carmon and Nguyen-Hein)",
        minimum=1e-14, maximum=1e-2,
    )  # fmt: skip
    population_grad_tol: float = param(
        1e-6, "convergence on the teacher-student population loss", minimum=1e-13, maximum=1e-2
    )
    max_iters: int = param(1500, "L-BFGS iteration budget per run", minimum=1, maximum=10**6)
    zero_tol: float = param(
        1e-8, "zero training error: ||f-y||^2/||y||^2 <= this", minimum=1e-14, maximum=1e-1
    )
    spurious_tol: float = param(
        1e-8, "a teacher-student critical point with population loss above this is spurious",
        minimum=1e-14, maximum=1.0,
    )  # fmt: skip
    kink_tol: float = param(
        1e-6, "differentiable: every |w_r.x_n|/(||w_r|| ||x_n||) > this", minimum=0.0, maximum=0.1
    )
    hess_tol: float = param(
        1e-6, "local minimum: lambda_min(H) >= -this * ||H||_2", minimum=0.0, maximum=0.1
    )
    rank_rtol: float = param(
        1e-10, "numerical rank: singular values > this * the largest", minimum=1e-15, maximum=0.1
    )

    @property
    def widths(self) -> list[int]:
        factors = _factors(self.width_factors, "width_factors")
        return sorted({max(1, round(f * self.n / self.d0)) for f in factors})

    @property
    def nh_widths(self) -> tuple[int, int]:
        return (self.nh_first_width or self.n, self.nh_second_width or self.d0)

    @property
    def ts_dim(self) -> int:
        return self.teacher_dim or self.teacher_units

    @property
    def student_widths(self) -> list[int]:
        factors = _factors(self.student_factors, "student_factors")
        if any(not f.is_integer() for f in factors) or factors[0] != 1:
            raise UsageError(
                f"student_factors must be integers starting at 1, got {self.student_factors!r}"
            )
        return [int(f) * self.teacher_units for f in factors]

    def validate(self) -> None:
        widths = self.widths
        if not any(soudry2016.below_parameter_floor(self.n, self.d0, w) for w in widths):
            raise UsageError(
                f"width_factors {self.width_factors!r} give widths {widths}: none has "
                f"d1(d0+1) < N = {self.n} (needed by parameter_count_floor); add a smaller factor"
            )
        if not any(self.d0 * w >= 2 * self.n for w in widths):
            raise UsageError(
                f"width_factors {self.width_factors!r} give widths {widths}: none has "
                f"d0 d1 >= 2N = {2 * self.n} (needed by soudry_carmon_interpolation); add f >= 2"
            )
        n1, n2 = self.nh_widths
        if n2 > n1:
            raise UsageError(f"Nguyen-Hein widths must be pyramidal (n1 >= n2), got {n1}, {n2}")
        if self.teacher_dim is not None and self.teacher_dim < self.teacher_units:
            raise UsageError(
                f"teacher_dim {self.teacher_dim} < teacher_units {self.teacher_units}: the "
                "orthonormal teacher needs d >= k"
            )
        self.student_widths  # noqa: B018 (validates student_factors)


def _hessian_chunk(floats_per_direction: float) -> int:
    return max(1, int(HESSIAN_MEMORY / (8 * 12 * max(floats_per_direction, 1.0))))


def estimate_bytes(p: Params) -> float:
    """Peak memory: the largest batch's optimiser state, forward intermediates and Hessians."""
    S, N, d0 = p.seeds, p.n, p.d0
    peaks = []
    for d1 in p.widths:
        P = d1 * (d0 + 1)
        peaks.append(S * (2 * L_BFGS_HISTORY * P + 12 * N * d1 + 2 * P * P) + HESSIAN_MEMORY)
    n1, n2 = p.nh_widths
    P_nh = d0 * n1 + n1 + n1 * n2 + 2 * n2 + 1
    peaks.append(S * (2 * L_BFGS_HISTORY * P_nh + 12 * N * (n1 + n2) + N * n1))
    k, d = p.teacher_units, p.ts_dim
    for m in p.student_widths:
        P = m * d
        peaks.append(S * (2 * L_BFGS_HISTORY * P + 12 * m * (m + k) * d + 2 * P * P))
        peaks[-1] += HESSIAN_MEMORY
    return 8.0 * max(peaks) + 8.0 * S * N * d0 * 4


def run(p: Params, ctx: Context) -> Report:
    report = Report(
        claim="no_bad_minima", params={}, seed=ctx.seed, device=ctx.device, dtype=ctx.dtype
    )
    _soudry_carmon(p, ctx, report)
    _nguyen_hein(p, ctx, report)
    _spurious_minima(p, ctx, report)
    return report


# 1. Soudry & Carmon ---------------------------------------------------------------------------


def _soudry_carmon(p: Params, ctx: Context, report: Report) -> None:
    S, N, d0 = p.seeds, p.n, p.d0
    gen = ctx.generator("soudry/data")
    X = ctx.to(torch.randn(S, N, d0, generator=gen, dtype=torch.float64))
    y = ctx.to(torch.randn(S, N, generator=gen, dtype=torch.float64))
    y_sq = y.pow(2).sum(-1)
    rows = []
    for d1 in p.widths:
        lay = shallow.noisy_leaky_relu_layout(d0, d1)
        noise = 1 + p.noise_std * ctx.randn(S, N, d1, stream=f"soudry/noise/{d1}")
        init = ctx.randn(S, lay.size, stream=f"soudry/init/{d1}")
        init[:, lay.slice("W")] /= math.sqrt(d0)
        init[:, lay.slice("z")] /= math.sqrt(d1)

        def loss_fn(theta, noise=noise):
            return shallow.noisy_leaky_relu_loss(theta, X, y, noise, p.leak)

        result = batched_lbfgs(loss_fn, init, p.grad_tol, p.max_iters, L_BFGS_HISTORY)
        theta = result.theta
        with torch.no_grad():
            residual = shallow.noisy_leaky_relu_net(theta, X, noise, p.leak) - y
            margin = shallow.kink_margin(theta, X, d1)
            design = shallow.khatri_rao_design(theta, X, noise, p.leak)
            design_sv = torch.linalg.svdvals(design)  # (S, min(N, d0 d1))
        _, grad = loss_and_grad(loss_fn, theta)
        grad_w = grad[:, lay.slice("W")].norm(dim=-1)
        eig = hessian_eigenvalues(loss_fn, theta, _hessian_chunk(S * N * d1))
        rows.append(_soudry_row(p, d1, result, residual, y_sq, margin, design_sv, grad_w, eig, N))

    regime = [r for r in rows if r["in_regime"]]
    report.quantities["soudry_widths"] = [r["width"] for r in rows]
    report.quantities["soudry_zero_error_fraction"] = [r["zero_fraction"] for r in rows]
    for r in rows:
        report.quantities[f"soudry_status_counts_d1_{r['width']}"] = r["status_counts"]

    # Comparison 1: zero counterexamples to the theorem in the regime N <= d0 d1.
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
    report.statements.append(statement)

    # Comparison 2: interpolation at d0 d1 >= 2N (empirical, every run).
    wide = [r for r in rows if d0 * r["width"] >= 2 * N]
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
    report.statements.append(statement)

    # Comparison 3: the mechanism's exact certificate ||f - y|| <= N ||grad_W L|| / sigma_N(G).
    ratios = [x for r in regime for x in r["certificate_ratios"]]
    statement = Statement.at_most(
        "soudry_carmon_certificate",
        "max ||f-y|| / (N ||grad_W L|| / sigma_N(G)) <= 1 over differentiable runs with "
        "rank G = N (Khatri-Rao design G; exact inequality)",
        max(ratios) if ratios else math.nan, 1.0,
        detail=f"{len(ratios)} runs with rank G = N (rank_rtol {p.rank_rtol:g})",
    )  # fmt: skip
    report.statements.append(statement)

    # Comparison 4: below the parameter floor d1 (d0 + 1) < N the error stays away from 0.
    floor = [r for r in rows if soudry2016.below_parameter_floor(N, d0, r["width"])]
    min_error = min(r["min_error"] for r in floor)
    report.statements.append(
        Statement.at_least(
            "parameter_count_floor",
            "min relative error ||f-y||^2/||y||^2 where d1 (d0+1) < N > zero_tol (random "
            "labels cannot be interpolated with fewer parameters than samples)",
            min_error, p.zero_tol, strict=True,
            detail=f"widths {[r['width'] for r in floor]} "
            f"(parameters {[soudry2016.parameter_count(d0, r['width']) for r in floor]} < {N})",
        )
    )  # fmt: skip

    # Comparison 5: the sharper floor d0 d1 < N (rank of the output map after removing the
    # d1 rescaling symmetries), which is where the theorem's regime starts.
    below = [r for r in rows if soudry2016.effective_dimension(d0, r["width"]) < N]
    report.statements.append(
        Statement.at_least(
            "effective_dimension_floor",
            "min relative error where d0 d1 < N > zero_tol (the output map has rank <= d0 d1: "
            "each unit's rescaling w -> c w, z -> z/c is a symmetry)",
            min(r["min_error"] for r in below), p.zero_tol, strict=True,
            detail=f"widths {[r['width'] for r in below]} (d0 d1 = "
            f"{[soudry2016.effective_dimension(d0, r['width']) for r in below]} < {N})",
        )
    )  # fmt: skip

    hyp = report.hypotheses
    hyp.append(
        Hypothesis(
            "soudry_leaky_activation", "sigma is leaky ReLU with a non-zero negative slope",
            p.leak > 0, f"leak = {p.leak}",
        )
    )  # fmt: skip
    hyp.append(
        Hypothesis(
            "soudry_dropout_noise",
            "fixed multiplicative noise from a continuous distribution (makes the design "
            "generic)", p.noise_std > 0, f"eps ~ N(1, {p.noise_std}^2), one draw per run",
        )
    )  # fmt: skip
    hyp.append(
        Hypothesis(
            "soudry_regime", "N <= d0 d1 for some width of the ladder", bool(regime),
            f"N = {N}, d0 = {d0}; widths in the regime: {[r['width'] for r in regime]}",
        )
    )  # fmt: skip
    hyp.append(
        Hypothesis(
            "soudry_generic_data", "inputs and labels from continuous distributions", True,
            "X ~ N(0, I), y ~ N(0, 1)",
        )
    )  # fmt: skip
    report.series["soudry"] = {
        "width": [r["width"] for r in rows],
        "ratio": [d0 * r["width"] / N for r in rows],
        "zero_fraction": [r["zero_fraction"] for r in rows],
        "relative_error": [r["errors"] for r in rows],
        "status": [r["statuses"] for r in rows],
        "parameter_floor_ratio": d0 / (d0 + 1),
    }


def _soudry_row(p, d1, result, residual, y_sq, margin, design_sv, grad_w, eig, N) -> dict:
    errors = (residual.pow(2).sum(-1) / y_sq).cpu()
    zero = errors <= p.zero_tol
    converged = result.converged.cpu()
    lam_min, lam_abs = eig[:, 0].cpu(), eig.abs().amax(-1).cpu()
    smooth = margin.cpu() > p.kink_tol
    minimum = converged & smooth & (lam_min >= -p.hess_tol * lam_abs)
    full_rank = torch.zeros_like(zero)
    ratios = []
    if design_sv.shape[-1] == N:
        sv = design_sv.cpu()
        full_rank = sv[:, -1] > p.rank_rtol * sv[:, 0]
        for s in torch.nonzero(full_rank & smooth).flatten().tolist():
            bound = soudry2016.residual_bound(N, float(grad_w[s]), float(sv[s, -1]))
            ratios.append(float(residual[s].norm()) / bound if bound > 0 else 0.0)
    statuses = [STATUS_NAMES[int(c)] for c in result.status.cpu()]
    return {
        "width": d1,
        "in_regime": soudry2016.in_regime(N, p.d0, d1),
        "errors": errors.tolist(),
        "statuses": statuses,
        "status_counts": {name: statuses.count(name) for name in STATUS_NAMES},
        "zero_count": int(zero.sum()),
        "zero_fraction": float(zero.double().mean()),
        "min_error": float(errors.min()),
        "candidates": int(minimum.sum()),
        "counterexamples": int((minimum & ~zero).sum()),
        "not_converged": int((~converged).sum()),
        "saddles": int((converged & smooth & ~minimum).sum()),
        "kinks": int((converged & ~smooth).sum()),
        "nonzero_not_converged": int((~converged & ~zero).sum()),
        "certificate_ratios": ratios,
        "full_rank_fraction": float(full_rank.double().mean()),
    }


# 2. Nguyen & Hein -----------------------------------------------------------------------------


def _nguyen_hein(p: Params, ctx: Context, report: Report) -> None:
    S, N, d0 = p.seeds, p.n, p.d0
    widths = p.nh_widths
    gen = ctx.generator("nguyen/data")
    X = ctx.to(torch.randn(S, N, d0, generator=gen, dtype=torch.float64))
    y = ctx.to(torch.randn(S, N, generator=gen, dtype=torch.float64))
    lay = shallow.pyramidal_layout(d0, widths)
    init = ctx.randn(S, lay.size, stream="nguyen/init")
    for name, shape in lay.blocks:
        block = lay.slice(name)
        if name.startswith("W"):
            init[:, block] *= math.sqrt(2.0 / (shape[0] + shape[1]))  # Glorot normal
        else:
            init[:, block] = 0.0

    def loss_fn(theta):
        return shallow.smooth_pyramidal_loss(theta, X, y, widths, p.activation)

    result = batched_lbfgs(loss_fn, init, p.grad_tol, p.max_iters, L_BFGS_HISTORY)
    theta = result.theta
    _, grad = loss_and_grad(loss_fn, theta)
    with torch.no_grad():
        features, out = shallow.smooth_pyramidal_features(theta, X, widths, p.activation)
        residual = out - y
        parts = lay.split(theta)
        W2, W3 = parts[2], parts[4]
        pre2 = features[0] @ W2 + parts[3].unsqueeze(-2)
        slope2 = _activation_slope(pre2, p.activation).flatten(-2).amin(-1)
        sv_f1 = torch.linalg.svdvals(features[0])  # (S, min(N, n1))
        sv_w2 = torch.linalg.svdvals(W2)
        sv_w3 = torch.linalg.svdvals(W3)
    errors = (residual.pow(2).sum(-1) / y.pow(2).sum(-1)).cpu()
    rank_f1 = (sv_f1 > p.rank_rtol * sv_f1[:, :1]).sum(-1).cpu()
    rank_w2 = (sv_w2 > p.rank_rtol * sv_w2[:, :1]).sum(-1).cpu()
    rank_w3 = (sv_w3 > p.rank_rtol * sv_w3[:, :1]).sum(-1).cpu()
    full = (rank_f1 == N) & (rank_w3 == 1)
    converged = result.converged.cpu()
    nonzero = errors > p.zero_tol
    counterexamples = int((converged & full & nonzero).sum())
    candidates = int((converged & full).sum())
    statement = Statement.at_most(
        "nguyen_hein",
        "converged critical points with rank F_1 = N and full-column-rank W_3 whose error "
        "||f-y||^2/||y||^2 exceeds zero_tol = 0 (Nguyen & Hein 2017, Sec. 3)",
        counterexamples, 0,
        detail=f"{candidates} converged full-rank runs of {S}; fraction with full rank "
        f"{float(full.double().mean()):.3g} (theory: almost all); "
        f"{int((~converged).sum())} not converged",
    )  # fmt: skip
    if candidates == 0:
        statement.mark_not_evaluable("no converged full-rank critical point: nothing to test")
    report.statements.append(statement)

    ratios, saturated = [], 0
    grad_w2 = grad[:, lay.slice("W2")].norm(dim=-1).cpu()
    for s in torch.nonzero(full).flatten().tolist():
        if sv_f1.shape[-1] < N:
            break
        chain = float(slope2[s]) * float(sv_w3[s, -1])
        if chain == 0.0:  # sigma' underflowed to 0 (saturated unit): the bound is infinite
            saturated += 1
            continue
        bound = nguyen2017.residual_bound(N, float(grad_w2[s]), float(sv_f1[s, -1]), chain)
        ratios.append(float(residual[s].norm()) / bound if bound > 0 else 0.0)
    report.statements.append(
        Statement.at_most(
            "nguyen_hein_certificate",
            "max ||f-y|| / (N ||grad_W2 L||_F / (sigma_N(F_1) min sigma'(G_2) sigma_min(W_3))) "
            "<= 1 over full-rank runs (the proof's mechanism; exact inequality)",
            max(ratios) if ratios else math.nan, 1.0,
            detail=f"{len(ratios)} full-rank runs; {saturated} more with a saturated unit "
            "(sigma' = 0 in float64: infinite bound, not compared)",
        )
    )  # fmt: skip
    n1, n2 = widths
    report.hypotheses += [
        Hypothesis(
            "nguyen_hein_wide_layer", "first hidden width n1 >= N", nguyen2017.wide_enough(N, n1),
            f"n1 = {n1}, N = {N}",
        ),
        Hypothesis(
            "nguyen_hein_pyramidal", "n1 >= n2 >= 1 (pyramidal after the wide layer)",
            n1 >= n2, f"widths {d0} -> {n1} -> {n2} -> 1",
        ),
        Hypothesis(
            "nguyen_hein_activation", "analytic, strictly increasing activation", True,
            p.activation,
        ),
    ]  # fmt: skip
    report.quantities["nguyen_hein_full_rank_fraction"] = float(full.double().mean())
    report.quantities["nguyen_hein_zero_error_fraction"] = float((~nonzero).double().mean())
    report.series["nguyen_hein"] = {
        "relative_error": errors.tolist(),
        "rank_F1": rank_f1.tolist(),
        "rank_W2": rank_w2.tolist(),
        "rank_W3": rank_w3.tolist(),
        "sigma_ratio_F1": (sv_f1[:, -1] / sv_f1[:, 0]).cpu().tolist(),
        "status": [STATUS_NAMES[int(c)] for c in result.status.cpu()],
    }


def _activation_slope(pre: torch.Tensor, activation: str) -> torch.Tensor:
    """sigma'(t): 1 - tanh(t)^2 or the logistic function (softplus)."""
    if activation == "tanh":
        return 1 - torch.tanh(pre).pow(2)
    return torch.sigmoid(pre)


# 3. Safran & Shamir ---------------------------------------------------------------------------


def _spurious_minima(p: Params, ctx: Context, report: Report) -> None:
    S, k, d = p.seeds, p.teacher_units, p.ts_dim
    V = ctx.to(torch.eye(k, d, dtype=torch.float64))

    def loss_fn(theta):
        return shallow.teacher_student_population_loss(theta, V)

    rows = []
    for m in p.student_widths:
        init = ctx.randn(S, m * d, stream=f"safran/init/{m}") / math.sqrt(d)
        result = batched_lbfgs(loss_fn, init, p.population_grad_tol, p.max_iters, L_BFGS_HISTORY)
        chunk = _hessian_chunk(S * m * (m + k) * d)
        eig = hessian_eigenvalues(loss_fn, result.theta, chunk)
        loss = result.loss.cpu()
        lam_min, lam_abs = eig[:, 0].cpu(), eig.abs().amax(-1).cpu()
        converged = result.converged.cpu()
        local_min = converged & (lam_min >= -p.hess_tol * lam_abs)
        spurious = local_min & (loss > p.spurious_tol)
        statuses = [STATUS_NAMES[int(c)] for c in result.status.cpu()]
        rows.append(
            {
                "width": m,
                "loss": loss.tolist(),
                "lambda_min": lam_min.tolist(),
                "spurious": spurious.tolist(),
                "count": int(spurious.sum()),
                "global": int((converged & (loss <= p.spurious_tol)).sum()),
                "not_converged": int((~converged).sum()),
                "saddles": int((converged & ~local_min & (loss > p.spurious_tol)).sum()),
                "status": statuses,
            }
        )
    exact, widest = rows[0], rows[-1]
    contrast_budget_limited = exact["count"] == 0 and exact["not_converged"] > 0
    summary = "; ".join(
        f"width {r['width']}: {r['count']} spurious, {r['global']} global, {r['saddles']} "
        f"saddles, {r['not_converged']} not converged" for r in rows
    )  # fmt: skip
    report.statements.append(
        Statement.at_least(
            "spurious_minima_contrast",
            f"certified spurious local minima at student width k = {k} (grad <= tol, "
            "lambda_min >= -hess_tol ||H||, loss > spurious_tol) >= 1: the certifier sees bad "
            "minima where they exist (Safran & Shamir 2018)",
            exact["count"], 1,
            detail=summary,
        )
    )  # fmt: skip
    if contrast_budget_limited:  # none found, but some runs never reached a critical point
        report.statements[-1].mark_not_evaluable("inconclusive: raise --max-iters")
    report.statements.append(
        Statement.at_most(
            "no_spurious_minima_wide",
            f"certified spurious local minima at the widest student ({widest['width']} units "
            f"= {widest['width'] // k} k) = 0",
            widest["count"], 0,
            detail=f"{S} runs; {widest['not_converged']} not converged",
        )
    )  # fmt: skip
    report.hypotheses.append(
        Hypothesis(
            "spurious_teacher_width",
            f"teacher width k >= {SPURIOUS_TEACHER_MIN} (where Safran & Shamir find spurious "
            "minima common; below it the contrast can be empty by chance)",
            k >= SPURIOUS_TEACHER_MIN, f"k = {k}, d = {d}", required=True,
        )
    )  # fmt: skip
    report.quantities["spurious_counts"] = [r["count"] for r in rows]
    report.quantities["spurious_student_widths"] = [r["width"] for r in rows]
    spurious_losses = [
        x for r in rows for x, flag in zip(r["loss"], r["spurious"], strict=True) if flag
    ]
    report.quantities["spurious_min_loss"] = min(spurious_losses) if spurious_losses else None
    report.series["teacher_student"] = rows


def plot(report: Report, path: str) -> None:
    from ..plots.no_bad_minima import draw

    draw(report, path)


CLAIM = Claim(
    name="no_bad_minima",
    summary="over-parameterized nets have no bad differentiable local minima; exact-size "
    "teacher-student nets do (Soudry & Carmon 2016; Nguyen & Hein 2017; Safran & Shamir 2018)",
    params=Params,
    run=run,
    estimate_bytes=estimate_bytes,
    plot=plot,
)
