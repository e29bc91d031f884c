"""Weak features (Belkin, Hsu, Xu 2019, Thm 1): the learner sees p of D features; the unseen
part is simulated explicitly (it is what acts as noise), and the measured test error is
compared with the closed form: weak_features_risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...registry import Comparison
from ...report import Statement
from ...theory import belkin2019
from . import common
from .common import MIN_LADDER_GAP, Z_LIMIT, require_finite, z_score

if TYPE_CHECKING:
    from ...runtime import Context

# Fractions of D seen by the learner (points closer than MIN_LADDER_GAP to n are skipped).
WEAK_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 1)


def weak_ladder(n: int, D: int) -> list[int]:
    """The p values of the weak-features ladder."""
    points = {max(1, round(f * D)) for f in WEAK_FRACTIONS}
    return sorted(p for p in points if abs(p - n) >= MIN_LADDER_GAP)


@dataclass
class WeakFeaturesMeasurement:
    """``errors[i, r]``: expected test error (over a Gaussian test point) of design r when the
    learner sees the first ``ladder[i]`` of ``D`` features."""

    n: int
    D: int
    ladder: list[int]
    errors: np.ndarray  # (len(ladder), designs)


def simulate(p, ctx: Context) -> WeakFeaturesMeasurement:
    import torch

    from .designs import draw_designs, min_norm_solve

    n, D = p.weak_n, p.weak_d
    # Equal-weight beta (BHX Sec. 2 example): ||beta_T||^2 = r2 p / D exactly for every T.
    beta = torch.full((D,), math.sqrt(p.signal / D), dtype=torch.float64, device=ctx.torch_device)
    X = draw_designs(ctx, p.designs, n, D, "weak/design")
    noise = ctx.randn(p.designs, n, stream="weak/noise") * math.sqrt(p.noise)
    y = X @ ctx.to(beta) + noise
    ladder = weak_ladder(n, D)
    rows = []
    for q in ladder:
        beta_hat = min_norm_solve(X[:, :, :q], y)
        unseen = float(beta[q:].pow(2).sum())
        # Exact expectation over a Gaussian test point: ||beta_hat - beta_T||^2 + unseen + s2.
        err = (beta_hat.to(torch.float64) - beta[:q]).pow(2).sum(dim=1) + unseen + p.noise
        rows.append(err.cpu().numpy())
    return WeakFeaturesMeasurement(n, D, ladder, np.stack(rows))


def compare(m: WeakFeaturesMeasurement, p) -> Comparison:
    """weak_features_risk and its series."""
    r2_ref, s2_ref = common.reference_values(p.control, p.signal, p.noise)
    z_values, measured, se, exact = [], [], [], []
    for q, row in zip(m.ladder, m.errors, strict=True):
        mean, err = common.mean_and_se(row)
        require_finite(f"weak-features test error at p = {q} (mean, standard error)", mean, err)
        seen_ref = r2_ref * q / m.D
        ref = belkin2019.full_test_error(m.n, q, seen_ref, r2_ref - seen_ref, s2_ref)
        measured.append(mean)
        se.append(err)
        exact.append(ref)
        z_values.append(z_score(mean, ref, err))
    worst = int(np.argmax(np.abs(z_values)))
    statement = Statement.at_most(
        "weak_features_risk",
        "max_p |mean test error - BHX Thm 1| / SE <= 4; learner sees p of D features, the "
        "unseen part acts as noise (Belkin, Hsu, Xu 2019)",
        float(np.abs(z_values).max()), Z_LIMIT,
        detail=f"n = {m.n}, D = {m.D}, equal-weight beta, {m.errors.shape[1]} designs; worst "
        f"at p = {m.ladder[worst]} (measured {measured[worst]:.5g} +- {se[worst]:.2g}, formula "
        f"{exact[worst]:.5g})",
        power="exact",
    )  # fmt: skip
    series = {
        "n": m.n, "D": m.D, "p": list(m.ladder), "error_measured": measured, "error_se": se,
        "error_exact": exact,
    }  # fmt: skip
    return Comparison(statements=[statement], series={"weak_features": series})
