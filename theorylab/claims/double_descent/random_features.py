"""Random ReLU features regression against Mei & Montanari (2019): random_features_risk (their
Thm 1 test error at a small ridge) and random_features_peak (the ridgeless curve peaks at N = n,
Thm 3).

Setting (their Sec. 2): x_i and theta_a uniform on the sphere of radius sqrt(d); features
relu(<theta_a, x>/sqrt(d)); target <beta, x> + noise with ||beta||^2 = r2, noise variance s2;
ridge with Mei & Montanari's normalisation (1/n) sum (y - f)^2 + (N lambda / d)||a||^2.

The widths are nested (N features = the first N of one draw of max(N)), the repeats are
stacked and solved together: ridge through a Cholesky factor of the smaller Gram matrix,
ridgeless (minimum norm) through a QR factorisation of Z (N < n) or Z^T (N >= n), which is as
accurate as the SVD-based least squares it replaces and several times cheaper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...errors import Inconclusive
from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...theory import mei_montanari2019
from . import common
from .common import Z_LIMIT, require_finite

if TYPE_CHECKING:
    import torch

    from ...runtime import Context

# d, psi2 = n/d, psi1 = N/d grid, ridge lambda (their units), test points, repeats.
RF_D, RF_PSI2 = 100, 3.0
RF_PSI1 = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0)
RF_LAMBDA = 1e-3
RF_TEST = 1000
RF_REPEATS = 6
# Relative tolerance of the random-features comparison: the prediction is an N, n, d -> infinity
# limit; at d = 100 the measured error deviates by up to ~10% (finite-d corrections of order
# d^{-1/2}, largest just past the peak), so 0.15 plus 4 standard errors of the measured mean.
RF_RELATIVE_TOLERANCE = 0.15
# Points of the predicted curve drawn in the figure.
FINE_POINTS = 120


@dataclass
class RandomFeaturesMeasurement:
    """Test errors (noise excluded) per repeat and width: ``ridge`` at lambda = RF_LAMBDA,
    ``ridgeless`` the minimum-norm fit; both (repeats, len(widths))."""

    d: int
    n: int
    widths: list[int]
    ridge: np.ndarray
    ridgeless: np.ndarray


def _sphere(ctx: Context, rows: int, dim: int, stream: str) -> torch.Tensor:
    """rows points uniform on the sphere of radius sqrt(dim) (Mei & Montanari's scaling)."""
    x = ctx.randn(rows, dim, stream=stream)
    return x * (math.sqrt(dim) / x.norm(dim=1, keepdim=True))


def simulate(p, ctx: Context) -> RandomFeaturesMeasurement:
    import torch

    from .designs import min_norm_solve_qr, unit_direction

    d, n = RF_D, round(RF_PSI2 * RF_D)
    widths = [round(s * d) for s in RF_PSI1]
    Z_all, Zt_all, ys, targets = [], [], [], []
    for rep in range(RF_REPEATS):
        X = _sphere(ctx, n, d, f"rf/x/{rep}")
        Xt = _sphere(ctx, RF_TEST, d, f"rf/xtest/{rep}")
        beta = ctx.to(unit_direction(ctx, d, p.signal, f"rf/beta/{rep}"))
        ys.append(X @ beta + ctx.randn(n, stream=f"rf/noise/{rep}") * math.sqrt(p.noise))
        theta = _sphere(ctx, max(widths), d, f"rf/theta/{rep}")
        Z_all.append(torch.relu(X @ theta.T / math.sqrt(d)))
        Zt_all.append(torch.relu(Xt @ theta.T / math.sqrt(d)))
        targets.append(Xt @ beta)
    Z_all, Zt_all = torch.stack(Z_all), torch.stack(Zt_all)
    y, target = torch.stack(ys)[..., None], torch.stack(targets)
    ridge, ridgeless = [], []
    for N in widths:
        Z, Zt = Z_all[:, :, :N], Zt_all[:, :, :N]
        for a, store in ((_ridge_solve(Z, y, n * N * RF_LAMBDA / d), ridge),
                         (min_norm_solve_qr(Z, y), ridgeless)):  # fmt: skip
            store.append((Zt @ a)[..., 0].sub(target).pow(2).mean(dim=1))
    as_array = lambda rows: torch.stack(rows, dim=1).double().cpu().numpy()  # noqa: E731
    return RandomFeaturesMeasurement(d, n, widths, as_array(ridge), as_array(ridgeless))


def _ridge_solve(Z: torch.Tensor, y: torch.Tensor, reg: float) -> torch.Tensor:
    """argmin ||y - Z a||^2 + reg ||a||^2 for stacked Z (R, n, N), y (R, n, 1), reg > 0."""
    import torch

    _r, n, N = Z.shape
    Zt = Z.transpose(1, 2)
    if N <= n:
        A = Zt @ Z + reg * torch.eye(N, dtype=Z.dtype, device=Z.device)
        return torch.cholesky_solve(Zt @ y, torch.linalg.cholesky(A))
    A = Z @ Zt + reg * torch.eye(n, dtype=Z.dtype, device=Z.device)
    return Zt @ torch.cholesky_solve(y, torch.linalg.cholesky(A))


def _relu_constants() -> tuple[float, float]:
    """(zeta, mu_star^2) of ReLU, read from the theory module at call time (mutants patch it)."""
    return float(mei_montanari2019.RELU_ZETA), float(mei_montanari2019.RELU_MU_STAR_SQ)


def _predicted(psi1: float, psi2: float, lam: float, r2: float, s2: float) -> float:
    zeta, mu_star_sq = _relu_constants()
    try:
        return mei_montanari2019.predicted_test_error(
            zeta, psi1, psi2, lam / mu_star_sq, r2, 0.0, s2
        )
    except mei_montanari2019.FixedPointError as exc:
        raise Inconclusive(str(exc)) from exc


def compare(m: RandomFeaturesMeasurement, p) -> Comparison:
    """random_features_risk, random_features_peak and the series (with the predicted curve)."""
    r2_ref, s2_ref = common.reference_values(p.control, p.signal, p.noise)
    d, n, widths = m.d, m.n, m.widths
    out = Comparison(statements=[])
    measured, se, predicted, ratios = [], [], [], []
    for j, N in enumerate(widths):
        mean, err = common.mean_and_se(m.ridge[:, j])
        require_finite(f"random-features test error at N = {N} (mean, standard error)", mean, err)
        pred = _predicted(N / d, n / d, RF_LAMBDA, r2_ref, s2_ref)
        measured.append(mean)
        se.append(err)
        predicted.append(pred)
        ratios.append(abs(mean / pred - 1) / (RF_RELATIVE_TOLERANCE + Z_LIMIT * err / pred))
    worst = int(np.argmax(ratios))
    out.statements.append(
        Statement.at_most(
            "random_features_risk",
            f"max_psi1 |err_meas/err_MM - 1| / ({RF_RELATIVE_TOLERANCE} + 4 SE/err_MM) <= 1, "
            f"ReLU features, lambda = {RF_LAMBDA:g} (Mei & Montanari 2019 Thm 1)",
            float(max(ratios)), 1.0,
            detail=f"d = {d}, n = {n}, {m.ridge.shape[0]} repeats, {RF_TEST} test points; worst "
            f"at N = {widths[worst]}: measured {measured[worst]:.4g} +- {se[worst]:.2g}, "
            f"predicted {predicted[worst]:.4g}",
            power="interval",
        )
    )  # fmt: skip
    ridgeless_median = np.median(m.ridgeless, axis=0)
    require_finite("random-features ridgeless test errors", ridgeless_median)
    peak = widths[int(np.argmax(ridgeless_median))]
    spacing = math.log(RF_PSI1[RF_PSI1.index(RF_PSI2) + 1] / RF_PSI2) / 2
    out.statements.append(
        Statement.within(
            "random_features_peak",
            "log(N at the peak of the measured ridgeless test error / n) in +- half the grid "
            "spacing: the peak sits at N = n (Mei & Montanari Thm 3: divergence at psi1 = psi2)",
            math.log(peak / n), (-spacing, spacing),
            detail=f"measured peak at N = {peak}, n = {n} (median over {m.ridgeless.shape[0]} "
            "repeats)",
        )
    )  # fmt: skip
    fine = np.geomspace(RF_PSI1[0], RF_PSI1[-1], FINE_POINTS)
    out.series["random_features"] = {
        "d": d, "n": n, "N": list(widths), "lambda": RF_LAMBDA, "error_measured": measured,
        "error_se": se, "error_predicted": predicted,
        "ridgeless_median": ridgeless_median.tolist(),
        "ridgeless_predicted": [_predicted(N / d, n / d, 0.0, r2_ref, s2_ref) for N in widths],
        "psi1_fine": fine.tolist(),
        "predicted_fine": [_predicted(float(s), n / d, RF_LAMBDA, r2_ref, s2_ref) for s in fine],
    }  # fmt: skip
    return out


def setting_hypothesis(p) -> Hypothesis:
    """Mei & Montanari's Assumptions 1-2, as this run meets them."""
    return Hypothesis(
        "random_features_setting",
        "x_i, theta_a uniform on S^(d-1)(sqrt d), sigma with 0 < E sigma(G)^2 < inf, target "
        "with finite F1, Fstar (Mei & Montanari Assumptions 1-2)",
        True,
        f"ReLU (zeta = mu1/mu_star = {float(mei_montanari2019.RELU_ZETA):.6f}), linear "
        f"target F1^2 = r2, Fstar = 0, tau^2 = s2; d = {RF_D}, n = {round(RF_PSI2 * RF_D)}",
    )
