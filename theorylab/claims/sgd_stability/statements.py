"""The comparisons of the sgd_stability claim: pure functions of a measurement (engine.py) and
the parameters, each returning statements (and filling the quantities and series it reports).

Every theory value is computed here from what was measured, through the module attributes of
:mod:`theorylab.theory.wu2018` (rho(T), c_B, 2/eta, the non-uniformity bound), so the power
audit's mutants of that module change the predictions compared.
"""

from __future__ import annotations

import math
import statistics

import torch

from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...theory import wu2018
from . import engine

# GD minima are stable, so a <= 2/eta at the limit point; the final iterate has loss <=
# loss_tol, and its Hessian differs from the limit's by O(sqrt(loss_tol)) relative (1e-4 at
# the default), Lanczos adds 1e-10. 1% leaves room for a slowly converging last direction and
# is 50x tighter than the distance to the smallest ladder step's a*eta/2 (~0.5).
SHARPNESS_TOL = 0.01
# s <= sqrt(B(n-1)/(n-B))/eta is exact in 1-D only; in d > 1 the exact critical step can exceed
# it by a few percent (2-10% measured on this claim's minima; Wu et al. present it as
# approximate).
NONUNIFORMITY_TOL = 0.10
# rho(T) <= 1 is *mean-square* stability, a property of the ensemble of SGD runs; one run that
# converged certifies only that its own trajectory contracted, and a.s. convergence tolerates a
# mean square that grows slowly (||e_t||^2 is a product of random factors whose mean exceeds
# its typical value). Measured rho(T) at converged SGD minima: 0.987..1.045 over seeds 0-5;
# the GD minima SGD escapes from have rho(T) = 1.44..2.16 for the smallest batch. 10% keeps
# the statement far below the escape cases.
SPECTRAL_RADIUS_TOL = 0.10
# mean_square_prediction: a grid point agrees when |rate - rho| <= Z * standard error (+ the
# float64 rounding of rho and the sampled initial covariance, 1e-9). Z = 6: 16 grid points,
# a Gaussian 6-sigma excursion anywhere has probability < 1e-7; at unstable points
# ||e_t||^2 is a product of random factors, so its sample standard error understates the
# spread somewhat (measured |z| up to ~4.3 over seeds with the correct theory; 10-60 with c_B=0).
MEAN_SQUARE_Z = 6.0
RATE_FLOOR = 1e-9
# Points whose measured late-window growth rate is within BOUNDARY_Z of its own Monte-Carlo
# standard errors of 1 are inside the boundary margin: the sample does not resolve the sign.
BOUNDARY_Z = 4.0
IDENTITY_TOL = 1e-12
# Gauss-Newton agreement: |a_Hessian - a_GN| / a_GN at the minima.
GAUSS_NEWTON_TOL = 1e-3
# Edge of stability: "arrival" when the sharpness first reaches (1 - EOS_ARRIVAL) 2/eta;
# afterwards it must stay within +-EOS_BAND of 2/eta. Measured: largest |a eta/2 - 1| after
# arrival 0.060..0.081 over seeds 0-5 (the sawtooth of GD at the edge: the sharpness
# overshoots by a few percent, a catapult drops it by ~6%; Cohen et al. Fig. 1 show the same
# few-percent oscillation). +-10% separates it from both a run that stays below the edge and
# one that leaves it.
EOS_ARRIVAL = 0.05
EOS_BAND = 0.10


def compare(m: engine.SGDMeasurement, p) -> Comparison:
    """Statements, hypotheses, quantities and series of one measurement (pure)."""
    out = Comparison(statements=[])
    q, n = out.quantities, m.n
    q.update(n=n, d=m.d, params=m.num_params, eta=m.eta, loss="mean: (1/n) sum 1/2 (f-y)^2")
    out.hypotheses += minima_hypotheses(m, p.loss_tol)
    gd_minima = [x for x in m.minima if x.batch == n]
    sgd_minima = [x for x in m.minima if x.batch < n]
    c_b_fn = engine.batch_factor_for(p.theory)
    out.statements.append(sharpness_statement(gd_minima, "gd_sharpness_bound"))
    out.statements += sgd_condition_statements(sgd_minima, n, c_b_fn)
    out.statements.append(sampling_identity_statement(m, q))
    out.statements += mean_square_statements(m, p, c_b_fn, out)
    out.statements += escape_statements(m, p, q)
    out.statements += edge_of_stability_statements(m.edge, p, out)
    q["minima"] = [
        {"label": x.label, "eta": x.eta, "batch": x.batch, "sharpness": x.sharpness, "s": x.s,
         "gn_sharpness": x.gn_sharpness, "loss": x.loss, "reached_at": x.reached_at,
         "sharpness_bound": wu2018.sharpness_bound(x.eta),
         "s_bound": wu2018.nonuniformity_bound(x.eta, n, x.batch), "lanczos_products": x.products}
        for x in m.minima
    ]  # fmt: skip
    out.series["training"] = m.training
    return out


def minima_hypotheses(m: engine.SGDMeasurement, loss_tol: float) -> list[Hypothesis]:
    gn_gap = max(abs(x.sharpness - x.gn_sharpness) / x.gn_sharpness for x in m.minima)
    return [
        Hypothesis(
            "over_parameterized", "P >= n parameters (interpolating minima exist generically)",
            m.num_params >= m.n, f"P = {m.num_params}, n = {m.n}",
        ),
        Hypothesis(
            "global_minima_reached",
            f"every GD/SGD run reached mean loss <= loss_tol = {loss_tol:g} within max_steps",
            all(x.reached_at >= 0 for x in m.minima),
            "steps: " + ", ".join(f"{x.label}: {x.reached_at}" for x in m.minima),
            required=True,
        ),
        Hypothesis(
            "gauss_newton_exact",
            "at the found minima H = (1/n) sum_i g_i g_i^T (Gauss-Newton): |a_H - a_GN| / a_GN "
            f"<= {GAUSS_NEWTON_TOL:g}",
            bool(gn_gap <= GAUSS_NEWTON_TOL),
            f"largest relative gap {gn_gap:.3g} (the residual term is O(sqrt(loss)))",
        ),
    ]  # fmt: skip


def sharpness_statement(minima: list[engine.Minimum], name: str) -> Statement:
    """max over minima of a eta / 2 <= 1 + SHARPNESS_TOL (a <= (2/eta)(1 + tol))."""
    ratios = [x.sharpness / wu2018.sharpness_bound(x.eta) for x in minima]
    worst = max(range(len(minima)), key=lambda j: ratios[j])
    return Statement.at_most(
        name,
        f"max over minima of a*eta/2 <= 1 + {SHARPNESS_TOL:g}, i.e. a <= 2/eta (Wu et al. 2018 "
        "linear stability analysis; GD stability)",
        ratios[worst], 1.0 + SHARPNESS_TOL,
        detail="a*eta/2 = "
        + ", ".join(f"{x.label}: {r:.4f}" for x, r in zip(minima, ratios, strict=True)),
    )  # fmt: skip


def sgd_condition_statements(minima: list[engine.Minimum], n: int, c_b_fn) -> list[Statement]:
    out = [sharpness_statement(minima, "sgd_conditions_sharpness")]
    ratios = [x.s / wu2018.nonuniformity_bound(x.eta, n, x.batch) for x in minima]
    worst = max(range(len(minima)), key=lambda j: ratios[j])
    out.append(
        Statement.at_most(
            "sgd_conditions_nonuniformity",
            f"max over SGD minima of s / (sqrt(B(n-1)/(n-B))/eta) <= 1 + {NONUNIFORMITY_TOL:g} "
            "(Wu et al. 2018; exact in 1-D, approximate in d > 1)",
            ratios[worst], 1.0 + NONUNIFORMITY_TOL,
            detail=", ".join(f"{x.label}: s={x.s:.4g}, ratio {r:.4f}"
                             for x, r in zip(minima, ratios, strict=True)),
        )
    )  # fmt: skip
    radii = [engine.operator_radius(x.factors, x.eta, x.batch, n, c_b_fn)[0] for x in minima]
    worst = max(range(len(minima)), key=lambda j: radii[j])
    out.append(
        Statement.at_most(
            "sgd_conditions_exact",
            f"max over SGD minima of rho(T(eta, B)) <= 1 + {SPECTRAL_RADIUS_TOL:g} (the exact "
            "mean-square condition in any dimension; tolerance: one converged run is not an "
            "ensemble)",
            radii[worst], 1.0 + SPECTRAL_RADIUS_TOL,
            detail=", ".join(f"{x.label}: {r:.5f}" for x, r in zip(minima, radii, strict=True)),
        )
    )  # fmt: skip
    return out


def sampling_identity_errors(hessians: torch.Tensor, moments: list[torch.Tensor]) -> list[float]:
    """||E[H_B^2] - (H^2 + c_B Sigma)||_F / ||E[H_B^2]||_F for B = 1..n_e, the enumerated
    second moments ``moments[B - 1]`` against the sampling identity."""
    count = hessians.shape[0]
    H = hessians.mean(dim=0)
    sigma = (hessians @ hessians).mean(dim=0) - H @ H
    errors = []
    for batch, exact in enumerate(moments, start=1):
        predicted = H @ H + wu2018.batch_factor(count, batch) * sigma
        errors.append(float((exact - predicted).norm() / exact.norm()))
    return errors


def sampling_identity_statement(m: engine.SGDMeasurement, q: dict) -> Statement:
    """max_B ||E[H_B^2] - (H^2 + c_B Sigma)||_F / ||E[H_B^2]||_F over B = 1..n_e."""
    errors = sampling_identity_errors(m.identity_hessians, m.identity_moments)
    count = m.identity_hessians.shape[0]
    q["sampling_identity_errors"] = errors
    return Statement.at_most(
        "sampling_identity",
        "max_B ||E[H_B^2] - (H^2 + (n-B)/(B(n-1)) Sigma)||_F / ||E[H_B^2]||_F <= "
        f"{IDENTITY_TOL:g} (exact enumeration of all batches; Wu et al. 2018)",
        max(errors), IDENTITY_TOL, power="exact",
        detail=f"n = {count} samples of the GD minimum at eta (per-sample Gauss-Newton H_i), "
        f"every B = 1..{count}, {2**count - 1} batches in all",
    )  # fmt: skip


def mean_square_statements(m: engine.SGDMeasurement, p, c_b_fn, out: Comparison):
    """Grid (eta, B): rho(T) (theory) vs the growth rate of SGD on the Gauss-Newton quadratic.

    Each grid point starts from covariance M_0 = the Perron eigenmatrix of T, for which the
    theory predicts E||e_t||^2 = rho(T)^t E||e_0||^2 exactly (no transient); the measured rate
    is (mean ||e_t||^2 / mean ||e_0||^2)^(1/t) over ``runs`` independent runs.
    """
    run = m.mean_square
    gd_at_eta = [x for x in m.minima if x.batch == m.n][-1]
    grid, t, horizon = run.grid, run.checkpoint, run.horizon
    radii = [engine.operator_radius(gd_at_eta.factors, eta, b, m.n, c_b_fn)[0] for eta, b in grid]
    ratio = run.growth[t]
    rates = ratio.clamp_min(0).pow(1.0 / t)
    rate_se = rates * run.stderr / (ratio.clamp_min(1e-300) * t)
    # Verdict: the growth rate over the second half of the long horizon. Whatever the start,
    # SGD noise feeds every direction of the range, so an unstable mode shows there even if the
    # theory under test chose a start that hides it (theory="gd" starts in its flattest mode).
    window = horizon - horizon // 2
    z, agree_outside, inside, rows = [], [], [], []
    for j, (eta, batch) in enumerate(grid):
        rate, se, rho = float(rates[j]), float(rate_se[j]), radii[j]
        z.append(abs(rate - rho) / (se + RATE_FLOOR * max(rho, 1.0)))
        q_late, q_se = float(run.late[j]), float(run.late_stderr[j])
        if math.isfinite(q_late) and q_late > 0:
            late_rate = q_late ** (1.0 / window)
            late_rate_se = late_rate * q_se / (q_late * window)
        else:  # overflowed: unstable by any measure
            late_rate, late_rate_se = math.inf, 0.0
        if abs(late_rate - 1.0) <= BOUNDARY_Z * late_rate_se + RATE_FLOOR:
            inside.append(f"(eta={eta:.4g}, B={batch})")
        else:
            agree_outside.append((rho > 1.0) == (late_rate > 1.0))
        rows.append({"eta": eta, "batch": batch, "rho": rho, "rate": rate, "rate_se": se,
                     "z": z[-1], "late_rate": late_rate, "late_rate_se": late_rate_se})  # fmt: skip
    out.series["mean_square"] = rows
    out.quantities["mean_square_boundary_points"] = inside
    worst = max(range(len(grid)), key=lambda j: z[j])
    disagreements = sum(1 for ok in agree_outside if not ok)
    theory = "c_B = (n-B)/(B(n-1))" if p.theory == "wu2018" else "c_B = 0 (GD control)"
    return [
        Statement.at_most(
            "mean_square_prediction",
            f"max over the (eta, B) grid of |rate - rho(T)| / MC stderr <= {MEAN_SQUARE_Z:g}, "
            f"T = (I-eta H)(x)(I-eta H) + eta^2 c_B (S2 - H(x)H), {theory} (Wu et al. 2018)",
            z[worst], MEAN_SQUARE_Z, power="exact",
            detail=f"worst at eta={grid[worst][0]:.4g}, B={grid[worst][1]}: rate "
            f"{float(rates[worst]):.5g} vs rho {radii[worst]:.5g}; {len(grid)} points, "
            f"{p.runs} runs, {t} steps, at the GD minimum for eta={run.minimum_eta:.4g}",
        ),
        Statement.at_most(
            "mean_square_verdicts",
            "grid points where the measured stable/unstable verdict (growth rate of "
            f"E||e_t||^2 over steps {horizon // 2}..{horizon} <= 1) disagrees with rho(T) <= 1, "
            f"outside the margin |rate - 1| <= {BOUNDARY_Z:g} MC stderr of that rate",
            disagreements, 0,
            detail=f"{len(agree_outside)} points decided; inside the margin: "
            + (", ".join(inside) if inside else "none"),
        ),
    ]  # fmt: skip


def escape_statements(m: engine.SGDMeasurement, p, q: dict) -> list[Statement]:
    """SGD(eta, smallest B) leaves the GD minimum at eta (predicted unstable); it stays at the
    minimum SGD found with that batch (predicted stable); GD at a step with a > 2/eta leaves
    the flattest SGD minimum (the sharp-minimum control)."""
    run, n = m.escape, m.n
    gd_min = [x for x in m.minima if x.batch == n][-1]
    q["escape_rho_small_batch"] = run.rho_small
    factor = engine.ESCAPE_FACTOR
    if run.growth is not None:
        q["escape_growth"] = run.growth
        q.update(run.settle)
        escape = Statement.at_least(
            "escape",
            f"SGD (B={p.batch_size}) from the GD minimum (a={gd_min.sharpness:.4g}, "
            f"s={gd_min.s:.4g}; rho(T)={run.rho_small:.4g} > 1): median max_t "
            f"||x_t-x*||/||x_0-x*|| >= {factor:g} (Wu et al. 2018, escape experiments)",
            run.growth, factor,
            detail=f"{engine.ESCAPE_RUNS} runs, perturbation {engine.PERTURBATION:g}, "
            f"{p.escape_steps} steps",
        )  # fmt: skip
    else:
        escape = Statement.at_least(
            "escape", "SGD leaves a GD minimum that violates the SGD condition",
            math.nan, factor,
            detail=f"not testable: the GD minimum at eta satisfies the condition for "
            f"B={p.batch_size} (rho(T) = {run.rho_small:.4g})",
        )  # fmt: skip
    kept = math.nan if run.kept_growth is None else run.kept_growth
    if run.kept_growth is not None:
        q["kept_growth"] = run.kept_growth
    flat = next(x for x in m.minima if x.label == run.control_label)
    rho_c, _ = engine.operator_radius(flat.factors, run.control_eta, n, n, wu2018.batch_factor)
    q.update(control_eta=run.control_eta, control_sharpness=run.control_sharpness,
             control_rho=rho_c, control_growth=run.control_growth)  # fmt: skip
    tol = SPECTRAL_RADIUS_TOL
    return [
        escape,
        Statement.at_most(
            "escape_control_kept",
            f"SGD (B={p.batch_size}) from the minimum SGD found with that batch (rho(T) = "
            f"{run.rho_own:.4g} <= 1 + {tol:g}) stays: median max_t ||x_t-x*||/||x_0-x*|| < "
            f"{factor:g}",
            kept, factor, strict=True,
            detail="" if kept == kept else "not testable: the SGD minimum has rho(T) > "
            f"1 + {tol:g} for B={p.batch_size}",
        ),
        Statement.at_least(
            "sharp_minimum_control",
            f"GD with eta={run.control_eta:.4g} at a minimum with a={run.control_sharpness:.4g} "
            f"> 2/eta (predicted rho={rho_c:.4g} > 1): median max_t ||x_t-x*||/||x_0-x*|| >= "
            f"{factor:g}",
            run.control_growth, factor,
        ),
    ]  # fmt: skip


def edge_of_stability_statements(run: engine.EdgeRun, p, out: Comparison) -> list[Statement]:
    """Progressive sharpening to 2/eta, hovering there, and a loss that keeps decreasing."""
    threshold = wu2018.sharpness_bound(run.eta)
    steps, sharpness, losses = run.steps, run.sharpness, run.losses
    ratio = [a / threshold for a in sharpness]
    out.series["edge_of_stability"] = {
        "step": steps, "sharpness": sharpness, "threshold": threshold,
        "loss_step": list(range(len(losses))), "loss": losses,
    }  # fmt: skip
    q = out.quantities
    q.update(eos_initial_sharpness=sharpness[0], eos_threshold=threshold)
    out.hypotheses.append(
        Hypothesis(
            "eos_starts_below_edge",
            "the edge-of-stability run starts with a < (1 - arrival) 2/eta (so sharpening is seen)",
            bool(ratio[0] < 1 - EOS_ARRIVAL),
            f"a(0) = {sharpness[0]:.4g}, 2/eta = {threshold:.4g}",
            required=True,
        )
    )  # fmt: skip
    arrived = [j for j, r in enumerate(ratio) if r >= 1 - EOS_ARRIVAL]
    result = [
        Statement.at_least(
            "edge_of_stability_sharpening",
            f"max_t a(t) eta/2 >= {1 - EOS_ARRIVAL:g}: sharpness rises from a(0) to 2/eta "
            "(progressive sharpening; Cohen et al. 2021)",
            max(ratio), 1 - EOS_ARRIVAL,
            detail=f"a(0) = {sharpness[0]:.4g}; arrival at step "
            + (str(steps[arrived[0]]) if arrived else "never") + f" of {p.eos_steps}",
        )
    ]  # fmt: skip
    if not arrived or arrived[0] == len(ratio) - 1:
        q["eos_arrival_step"] = None
        return result
    first = arrived[0]
    after = ratio[first:]
    q["eos_arrival_step"] = steps[first]
    q["eos_band_after_arrival"] = [min(after), max(after)]
    result.append(
        Statement.at_most(
            "edge_of_stability",
            f"after arrival, max_t |a(t) eta/2 - 1| <= {EOS_BAND:g}: sharpness hovers at 2/eta "
            "(Cohen et al. 2021)",
            max(abs(r - 1) for r in after), EOS_BAND, power="interval",
            detail=f"a eta/2 in [{min(after):.4f}, {max(after):.4f}] over steps "
            f"{steps[first]}..{p.eos_steps}",
        )
    )  # fmt: skip
    result.append(loss_statement(steps[first], losses, p.eos_steps, q))
    return result


def loss_statement(start: int, losses: list[float], eos_steps: int, q: dict) -> Statement:
    """The loss at the edge is spiky (catapults: short excursions up to ~100x), so compare
    medians: the last 10% of steps against an equally long window right after arrival."""
    window = max(1, (eos_steps - start) // 10)
    early = statistics.median(losses[start : start + window])
    late = statistics.median(losses[-window:])
    tail = losses[start:]
    rises = sum(1 for j in range(1, len(tail)) if tail[j] > tail[j - 1])
    q["eos_loss_increases_after_arrival"] = rises
    return Statement.at_most(
        "edge_of_stability_loss",
        "median loss over the last 10% of steps / median over as many steps after arrival "
        "<= 1: the loss keeps decreasing over the long run, non-monotonically (Cohen et al. "
        "2021)",
        late / early, 1.0,
        detail=f"median loss {early:.3g} after arrival (step {start}), {late:.3g} at the end; "
        f"{rises} step-to-step increases after arrival",
    )  # fmt: skip
