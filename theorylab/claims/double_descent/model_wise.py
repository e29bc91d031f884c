"""Model-wise double descent of min-norm least squares: finite_sample_risk (Wishart formula),
asymptotic_risk (Hastie et al.'s limit), second_descent and its size.

The designs of one ladder point p are stacked (R x n x p); each design's conditional risk
||(I - P_row) beta||^2 + s2 tr((X^T X)^+) comes from one Cholesky factor of the smaller Gram
matrix (:func:`~theorylab.claims.double_descent.designs.conditional_risks`), or from the
eigendecomposition when the point is also a ridge point (then shared with
:mod:`~theorylab.claims.double_descent.ridge`). beta is drawn once per p, uniform on the sphere
of radius sqrt(r2), and held fixed over designs: the Monte-Carlo error comes from X alone.
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

# The default ladder as ratios gamma = p/n (points closer than MIN_LADDER_GAP to n skipped).
DEFAULT_GAMMAS = (0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 4.0)


@dataclass
class ModelWiseMeasurement:
    """Conditional risks of pinv(X) y: ``risks[i, r]`` for design r at p = ``ladder[i]``."""

    n: int
    ladder: list[int]
    risks: np.ndarray  # (len(ladder), designs)


def simulate(p, ctx: Context, ridge_points=()) -> tuple[ModelWiseMeasurement, dict]:
    """The ladder's risks, and the design spectra of the ``ridge_points``.

    The designs are nested in p (the design at p is the first p columns of one R x n x max(p)
    stack), so the ladder costs one draw and, on each side of the threshold, one Gram matrix
    (X^T X of the widest p < n, whose leading blocks serve the smaller p; X X^T accumulated
    over the columns added since the previous p). Every ladder point keeps the distribution
    of an independent Gaussian design; the points are positively correlated, which
    second_descent uses (its difference is paired over designs). beta is drawn per p.
    """
    from .designs import conditional_risks, draw_designs, spectra, unit_direction

    ladder = p.ladder
    points = sorted(set(ladder) | set(ridge_points))
    X = draw_designs(ctx, p.designs, p.n, max(points), f"design/{p.n}/nested")
    under = [q for q in points if q <= p.n]
    if under:
        first = X[:, :, : max(under)]
        gram_under = first.transpose(1, 2) @ first
    rows, shared, gram_over, done = {}, {}, None, 0
    for q in points:
        beta = ctx.to(unit_direction(ctx, q, p.signal, f"beta/{q}"))
        if q <= p.n:
            gram = gram_under[:, :q, :q].contiguous()
        else:  # X_q X_q^T: the previous p's plus the columns added since
            chunk = X[:, :, done:q]
            gram_over = chunk @ chunk.transpose(1, 2) + (0 if gram_over is None else gram_over)
            done, gram = q, gram_over
        design = X[:, :, :q]
        if q in ridge_points:
            shared[q] = spectra(design, beta, gram=gram)
            if q in ladder:
                rows[q] = shared[q].risk(p.noise)
        else:
            rows[q] = conditional_risks(design, beta, p.noise, gram=gram)[:, 0]
    risks = np.stack([rows[q].double().cpu().numpy() for q in ladder])
    return ModelWiseMeasurement(p.n, list(ladder), risks), shared


def compare(m: ModelWiseMeasurement, p) -> Comparison:
    """finite_sample_risk, asymptotic_risk, second_descent (+ size) and the ladder series."""
    r2_ref, s2_ref = common.reference_values(p.control, p.signal, p.noise)
    out = Comparison(statements=[])
    measured, se, exact, asym, z, rel_dev, tol = [], [], [], [], [], [], []
    for q, row in zip(m.ladder, m.risks, strict=True):
        mean, err = common.mean_and_se(row)
        require_finite(f"model-wise risk at p = {q} (mean, standard error)", mean, err)
        ref = wishart.risk(m.n, q, r2_ref, s2_ref)
        limit = hastie2019.ridgeless_risk(q / m.n, r2_ref, s2_ref)
        measured.append(mean)
        se.append(err)
        exact.append(ref)
        asym.append(limit)
        z.append(z_score(mean, ref, err))
        # asymptotic comparison: allowed relative deviation = the known finite-n correction
        # |exact/limit - 1| (1/(|p-n|-1) for the variance term) + 4 standard errors.
        correction = abs(ref / limit - 1) if limit > 0 else 0.0
        rel_dev.append(abs(mean / limit - 1) if limit > 0 else abs(mean))
        tol.append(correction + Z_LIMIT * err / limit if limit > 0 else math.inf)
    ladder = m.ladder
    worst = int(np.argmax(np.abs(z)))
    out.statements.append(
        Statement.at_most(
            "finite_sample_risk",
            "max_p |mean_X R(X) - exact| / SE <= 4, exact = s2 p/(n-p-1) (p<n) or "
            "r2(1-n/p) + s2 n/(p-n-1) (p>n) (Wishart moments; Hastie et al. 2019, BHX 2019)",
            float(np.abs(z).max()), Z_LIMIT,
            detail=f"{len(ladder)} ladder points, {m.risks.shape[1]} designs each; worst at "
            f"p = {ladder[worst]} (measured {measured[worst]:.5g} +- {se[worst]:.2g}, exact "
            f"{exact[worst]:.5g})",
            power="exact",
        )
    )  # fmt: skip
    ratio = [d / t for d, t in zip(rel_dev, tol, strict=True)]
    worst = int(np.argmax(ratio))
    out.statements.append(
        Statement.at_most(
            "asymptotic_risk",
            "max_p |R_meas / R_asym - 1| / tol_p <= 1, R_asym = s2 g/(1-g) or r2(1-1/g) + "
            "s2/(g-1), tol_p = |R_exact/R_asym - 1| (known finite-n factor) + 4 SE/R_asym "
            "(Hastie et al. 2019 Thm 1)",
            float(max(ratio)), 1.0,
            detail=f"worst at p = {ladder[worst]} (gamma {ladder[worst] / m.n:.3g}): relative "
            f"deviation {rel_dev[worst]:.3g}, tolerance {tol[worst]:.3g}",
            power="interval",
        )
    )  # fmt: skip
    _second_descent(m, p, measured, se, r2_ref, s2_ref, out)
    out.series.update(
        p=list(ladder), gamma=[q / m.n for q in ladder], risk_measured=measured, risk_se=se,
        risk_exact=exact, risk_asymptotic=asym, risk_z=z,
    )  # fmt: skip
    return out


def _second_descent(m, p, measured, se, r2_ref, s2_ref, out: Comparison) -> None:
    """second_descent: past the threshold the measured risk falls (the "modern" regime).

    Compares the first ladder point above n with the last one; the designs are nested, so the
    difference is paired (its SE is that of the per-design differences). The exact curve
    r2(1 - n/p) + s2 n/(p-n-1) falls there whenever s2 n/(p-n-1) dominates the bias growth, as
    on the default ladder.
    ``second_descent`` is the one-sided sign test (loose by design); ``second_descent_size``
    is its level companion: the measured drop against the exact one, within 4 SE.
    The classical_u_curve control states the classical prediction instead (risk rises past the
    interpolation threshold) and must be reported violated.
    """
    ladder = m.ladder
    over = [i for i, q in enumerate(ladder) if q > m.n]
    if len(over) < 2:
        out.hypotheses.append(
            Hypothesis(
                "second_descent_points", "the ladder has two points above n", False,
                "fewer than two p > n in --p-grid: second_descent not evaluated",
            )
        )  # fmt: skip
        return
    a, b = over[0], over[-1]
    diff_se = common.mean_and_se(m.risks[a] - m.risks[b])[1]
    drop = (measured[a] - measured[b]) / diff_se if diff_se > 0 else math.inf
    exact_a = wishart.risk(m.n, ladder[a], r2_ref, s2_ref)
    exact_b = wishart.risk(m.n, ladder[b], r2_ref, s2_ref)
    detail = (
        f"R(p={ladder[a]}) = {measured[a]:.4g} +- {se[a]:.2g}, R(p={ladder[b]}) = "
        f"{measured[b]:.4g} +- {se[b]:.2g}; exact {exact_a:.4g} -> {exact_b:.4g}"
    )
    predicted = exact_a > exact_b
    out.hypotheses.append(
        Hypothesis(
            "second_descent_predicted",
            "the exact curve falls from the first to the last ladder point above n (true when "
            "the variance term s2 n/(p-n-1) dominates the bias growth r2 n (1/p_a - 1/p_b))",
            predicted, detail,
        )
    )  # fmt: skip
    if not predicted:
        return  # e.g. s2 = 0: the exact curve rises past n and second_descent does not apply
    hypothesis = power_hypothesis("second_descent_power", exact_a - exact_b, diff_se, "--designs")
    out.hypotheses.append(hypothesis)
    if not hypothesis.met:
        return
    if p.control == "classical_u_curve":
        out.statements.append(
            Statement.at_least(
                "classical_u_curve",
                "CONTROL: (R(p_last) - R(p_first > n)) / SE >= -4, the classical prediction that "
                "test error only rises past the interpolation threshold",
                -drop, -Z_LIMIT, detail=detail,
            )
        )  # fmt: skip
        return
    out.statements.append(
        Statement.at_least(
            "second_descent",
            "(R(p_first > n) - R(p_last)) / SE >= 4: the risk descends again past the "
            "interpolation threshold (Belkin et al. 2019; exact curve of Hastie et al. / BHX)",
            drop, Z_LIMIT, detail=detail,
        )
    )  # fmt: skip
    size = z_score(measured[a] - measured[b], exact_a - exact_b, diff_se)
    out.statements.append(
        Statement.within(
            "second_descent_size",
            "(measured drop - exact drop) / SE in [-4, 4], drop = R(p_first > n) - R(p_last): "
            "the second descent has the size the Wishart formula predicts",
            size, (-Z_LIMIT, Z_LIMIT),
            detail=f"measured drop {measured[a] - measured[b]:.4g} +- {diff_se:.2g}, exact "
            f"{exact_a - exact_b:.4g}",
            power="exact",
        )
    )  # fmt: skip
