"""Sample-wise non-monotonicity at d = 100 (Nakkiran 2019, arXiv:1912.07242) and optimally
tuned ridge being monotone in n (Nakkiran, Venkat, Kakade, Ma 2020, arXiv:2003.01897):
samplewise_more_data_hurts, samplewise_matches_formula, samplewise_optimal_ridge_monotone.

The designs are nested (n samples = the first n rows of one stack of max(n) x d designs), so
differences between two n are paired. Each n's Gram matrix is accumulated from the previous
one's (X^T X for n >= d) or cut from the largest one below d (X X^T), and every conditional
risk (ridgeless and at lambda* = s2 d/(n r2)) comes from one Cholesky factor per design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...theory import hastie2019, wishart
from . import common
from .common import Z_LIMIT, power_hypothesis, require_finite, z_score

if TYPE_CHECKING:
    from ...runtime import Context

# Nakkiran (2019)'s example, d = 100, n = 80 vs 95.
SAMPLE_D, SAMPLE_N_SMALL, SAMPLE_N_LARGE = 100, 80, 95
SAMPLE_N_GRID = (10, 20, 40, 60, 80, 90, 95, 105, 110, 120, 150, 200, 300)


@dataclass
class SampleWiseMeasurement:
    """Per-design conditional risks at each n of ``grid`` (paired across n): ``ridgeless`` at
    the n with |n - d| > 1 (finite expected risk), ``optimal`` (ridge at the run's lambda*)
    at every n."""

    d: int
    grid: list[int]
    ridgeless: dict[int, np.ndarray]
    optimal: dict[int, np.ndarray]


def simulate(p, ctx: Context) -> SampleWiseMeasurement:
    from .designs import conditional_risks, draw_designs, unit_direction

    d, s2, grid = SAMPLE_D, p.sample_noise, SAMPLE_N_GRID
    beta = ctx.to(unit_direction(ctx, d, p.signal, "sample/beta"))
    X = draw_designs(ctx, p.sample_designs, max(grid), d, "sample/design")
    below = [m for m in grid if m <= d]
    outer = X[:, : max(below), :] @ X[:, : max(below), :].transpose(1, 2) if below else None
    inner, rows_done = None, 0
    ridgeless, optimal = {}, {}
    for m in grid:
        if m <= d:
            gram = outer[:, :m, :m]
        else:  # X_m^T X_m accumulated over the rows added since the previous n
            chunk = X[:, rows_done:m, :]
            inner = chunk.transpose(1, 2) @ chunk + (0 if inner is None else inner)
            rows_done = m
            gram = inner
        lam_opt = hastie2019.optimal_lambda(d / m, p.signal, s2) if p.signal > 0 else 0.0
        finite = abs(m - d) > wishart.INFINITE_RISK_GAP
        ridges = (0.0, lam_opt) if finite and lam_opt > 0 else (lam_opt,)
        risks = conditional_risks(X[:, :m, :], beta, s2, ridges, gram=gram).cpu().numpy()
        if finite:
            ridgeless[m] = risks[:, 0]
        optimal[m] = risks[:, -1]
    return SampleWiseMeasurement(d, list(grid), ridgeless, optimal)


def compare(m: SampleWiseMeasurement, p) -> Comparison:
    """The three sample-wise statements, their hypotheses and the series."""
    out = Comparison(statements=[])
    d, s2 = m.d, p.sample_noise
    r2_ref, s2_ref = common.reference_values(p.control, p.signal, s2)
    small, large = SAMPLE_N_SMALL, SAMPLE_N_LARGE
    for n, row in m.ridgeless.items():
        require_finite(f"sample-wise ridgeless risk at n = {n}", *common.mean_and_se(row))
    for n, row in m.optimal.items():
        require_finite(f"sample-wise optimal-ridge risk at n = {n}", *common.mean_and_se(row))
    exact = {n: wishart.risk(n, d, r2_ref, s2_ref) for n in m.ridgeless}
    diff_mean, diff_se = common.mean_and_se(m.ridgeless[large] - m.ridgeless[small])
    require_finite(f"sample-wise paired difference R({large}) - R({small})", diff_mean, diff_se)
    predicted_diff = exact[large] - exact[small]
    out.hypotheses.append(
        Hypothesis(
            "more_data_hurts_predicted",
            f"the exact risk at n = {large} exceeds the one at n = {small} (d = {d}: needs "
            f"s2 n/(d-n-1) to outgrow the bias drop r2 (n_large - n_small)/d)",
            predicted_diff > 0, f"formula difference {predicted_diff:.4g}",
        )
    )  # fmt: skip
    if predicted_diff > 0:
        hypothesis = power_hypothesis(
            "more_data_hurts_power", predicted_diff, diff_se, "--sample-designs"
        )
        out.hypotheses.append(hypothesis)
        if hypothesis.met:
            out.statements.append(
                Statement.at_least(
                    "samplewise_more_data_hurts",
                    f"(R(n={large}) - R(n={small})) / SE >= 4 at d = {d} (Nakkiran 2019): more "
                    "data hurts just below n = d",
                    diff_mean / diff_se if diff_se > 0 else math.inf, Z_LIMIT,
                    detail=f"R({large}) - R({small}) = {diff_mean:.4g} +- {diff_se:.2g} (paired, "
                    f"nested designs); formula difference {predicted_diff:.4g}",
                )
            )  # fmt: skip
    zs = []
    for n in (small, large):
        mean, err = common.mean_and_se(m.ridgeless[n])
        zs.append(abs(z_score(mean, exact[n], err)))
    out.statements.append(
        Statement.at_most(
            "samplewise_matches_formula",
            f"max over n in ({small}, {large}) of |mean R - exact| / SE <= 4 (d = {d})",
            max(zs), Z_LIMIT, detail=f"z = {zs[0]:.2f} at n = {small}, {zs[1]:.2f} at n = {large}",
            power="exact",
        )
    )  # fmt: skip
    _optimal_monotone(m, p, out)
    grid = m.grid
    optimal_asym = [
        hastie2019.optimal_ridge_risk(d / n, r2_ref, s2_ref) if r2_ref > 0 else math.nan
        for n in grid
    ]
    stats = {n: common.mean_and_se(row) for n, row in m.ridgeless.items()}
    out.series["samplewise"] = {
        "d": d, "n": list(grid),
        "ridgeless_measured": [stats[n][0] if n in stats else math.nan for n in grid],
        "ridgeless_se": [stats[n][1] if n in stats else math.nan for n in grid],
        "ridgeless_exact": [exact.get(n, math.inf) for n in grid],
        "optimal_measured": [common.mean_and_se(m.optimal[n])[0] for n in grid],
        "optimal_asymptotic": optimal_asym,
    }  # fmt: skip
    return out


def _optimal_monotone(m: SampleWiseMeasurement, p, out: Comparison) -> None:
    """Optimally tuned ridge is monotone in n; with r2 = 0 (lambda* infinite) not evaluated."""
    if p.signal == 0:
        out.hypotheses.append(
            Hypothesis(
                "finite_optimal_lambda", "r2 > 0 so lambda* = s2 d/(n r2) is finite", False,
                "r2 = 0: the optimal predictor is 0 at every n, samplewise_optimal_ridge_monotone "
                "not evaluated",
            )
        )  # fmt: skip
        return
    grid, increases = m.grid, []
    for a, b in zip(grid[:-1], grid[1:], strict=True):
        mean, err = common.mean_and_se(m.optimal[b] - m.optimal[a])
        require_finite(f"sample-wise optimal-ridge step n = {a} -> {b}", mean, err)
        increases.append(mean / err if err > 0 else 0.0)
    worst = int(np.argmax(increases))
    out.statements.append(
        Statement.within(
            "samplewise_optimal_ridge_monotone",
            "max over consecutive n of (R_opt(n_next) - R_opt(n)) / SE <= 4: optimally tuned "
            "ridge (lambda = s2 d/(n r2)) is monotone in n (Nakkiran, Venkat, Kakade, Ma 2020)",
            float(max(increases)), (-math.inf, Z_LIMIT),
            detail=f"largest step n = {grid[worst]} -> {grid[worst + 1]}",
            power="sanity",
        )
    )  # fmt: skip
