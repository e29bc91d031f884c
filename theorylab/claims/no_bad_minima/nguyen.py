"""Nguyen & Hein (ICML 2017, Sec. 3, k = 1): measurement and comparison.

Measurement (:func:`measure`): data as in Soudry & Carmon's experiment (own stream), widths
d0 -> n1 -> n2 -> 1 with biases, tanh (or softplus), Glorot-normal init, mean loss
L = 1/(2N) ||f - y||^2, batched L-BFGS (hand-written backpropagation,
:func:`theorylab.nets.shallow.smooth_pyramidal_value_and_grad`). At the final points: the
features F_1, the second layer's pre-activations G_2, the weights W_2, W_3, the gradient in
W_2 and the singular values the theorem's rank conditions name.

Comparison (:func:`compare`): zero counterexamples among converged critical points with
rank F_1 = N and full-column-rank W_3; the backpropagation identity grad_{W_2} L = F_1^T
Delta_2 / N with Delta_2 = (e W_3^T) * sigma'(G_2) (the first step of the proof's mechanism;
exact) and the certificate it gives, ||e|| <= N ||grad_{W_2} L|| / (sigma_N(F_1) min sigma'
sigma_min(W_3)) (a sanity bound: 10^10 loose at the default, see docs/claims/no_bad_minima.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...critical_points import STATUS_NAMES, batched_lbfgs, loss_and_grad
from ...nets import shallow
from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...runtime import Context
from ...theory import nguyen2017
from .common import L_BFGS_HISTORY

# Rounding of grad_{W_2} L against F_1^T Delta_2 / N (sums of N terms): a few ulps of
# ||F_1||_2 ||Delta_2|| (1e-17 measured in float64, 4e-5 = 330 ulps in float32); 1e5 ulps.
IDENTITY_ULPS = 1e5


@dataclass
class NguyenRun:
    """Per-run measurements (arrays over the S seeds)."""

    relative_error: np.ndarray
    status: list[str]
    converged: np.ndarray
    residual: np.ndarray  # (S, N)
    features: np.ndarray  # (S, N, n1): F_1
    preact2: np.ndarray  # (S, N, n2): G_2 = F_1 W_2 + b_2
    w3: np.ndarray  # (S, n2, 1)
    grad_w2: np.ndarray  # (S, n1, n2)
    sv_f1: np.ndarray  # (S, min(N, n1)), descending
    sv_w2: np.ndarray
    sv_w3: np.ndarray


def measure(p, ctx: Context) -> NguyenRun:
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

    def rows_loss(theta, index):
        return shallow.smooth_pyramidal_loss(theta, X[index], y[index], widths, p.activation)

    def rows_value_and_grad(theta, index):
        return shallow.smooth_pyramidal_value_and_grad(theta, X[index], y[index], widths,
                                                       p.activation)  # fmt: skip

    result = batched_lbfgs(
        loss_fn, init, p.grad_tol, p.max_iters, L_BFGS_HISTORY, rows_loss=rows_loss,
        rows_value_and_grad=rows_value_and_grad,
    )  # fmt: skip
    theta = result.theta
    _, grad = loss_and_grad(loss_fn, theta)
    with torch.no_grad():
        features, out = shallow.smooth_pyramidal_features(theta, X, widths, p.activation)
        residual = out - y
        parts = lay.split(theta)
        W2, W3 = parts[2], parts[4]
        pre2 = features[0] @ W2 + parts[3].unsqueeze(-2)

    def numpy(t):
        return t.detach().cpu().numpy()

    return NguyenRun(
        relative_error=numpy(residual.pow(2).sum(-1) / y.pow(2).sum(-1)),
        status=[STATUS_NAMES[int(c)] for c in result.status.cpu()],
        converged=numpy(result.converged),
        residual=numpy(residual),
        features=numpy(features[0]),
        preact2=numpy(pre2),
        w3=numpy(W3),
        grad_w2=numpy(grad[:, lay.slice("W2")].reshape(S, *W2.shape[-2:])),
        sv_f1=numpy(torch.linalg.svdvals(features[0])),
        sv_w2=numpy(torch.linalg.svdvals(W2)),
        sv_w3=numpy(torch.linalg.svdvals(W3)),
    )


def activation_slope(pre: np.ndarray, activation: str) -> np.ndarray:
    """sigma'(t): 1 - tanh(t)^2, or the logistic function (the derivative of softplus)."""
    if activation == "tanh":
        return 1 - np.tanh(pre) ** 2
    return 0.5 * (1 + np.tanh(0.5 * pre))


def backprop_delta2(residual, preact2, w3, activation: str) -> np.ndarray:
    """Delta_2 = (e W_3^T) * sigma'(G_2): the error signal at the second hidden layer."""
    return (residual[..., None] @ np.swapaxes(w3, -1, -2)) * activation_slope(preact2, activation)


def backprop_gradient_w2(features, delta2, n_samples: int) -> np.ndarray:
    """grad_{W_2} L = F_1^T Delta_2 / N (mean loss): the chain rule of the proof."""
    return np.swapaxes(features, -1, -2) @ delta2 / n_samples


def compare(p, m: NguyenRun, out: Comparison, eps: float = 2.0**-52) -> None:
    N, S = p.n, p.seeds
    rank = {name: (sv > p.rank_rtol * sv[:, :1]).sum(-1)
            for name, sv in (("F1", m.sv_f1), ("W2", m.sv_w2), ("W3", m.sv_w3))}  # fmt: skip
    full = (rank["F1"] == N) & (rank["W3"] == 1)
    nonzero = m.relative_error > p.zero_tol
    counterexamples = int((m.converged & full & nonzero).sum())
    candidates = int((m.converged & full).sum())
    statement = Statement.at_most(
        "nguyen_hein",
        "converged critical points with rank F_1 = N and full-column-rank W_3 whose error "
        "||f-y||^2/||y||^2 exceeds zero_tol = 0 (Nguyen & Hein 2017, Sec. 3)",
        counterexamples, 0,
        detail=f"{candidates} converged full-rank runs of {S}; fraction with full rank "
        f"{float(full.mean()):.3g} (theory: almost all); {int((~m.converged).sum())} not "
        "converged",
    )  # fmt: skip
    if candidates == 0:
        statement.mark_not_evaluable("no converged full-rank critical point: nothing to test")
    out.statements += [statement, identity_statement(p, m, out.quantities, IDENTITY_ULPS * eps),
                       certificate_statement(p, m, full)]  # fmt: skip
    n1, n2 = p.nh_widths
    out.hypotheses += [
        Hypothesis(
            "nguyen_hein_wide_layer", "first hidden width n1 >= N", nguyen2017.wide_enough(N, n1),
            f"n1 = {n1}, N = {N}",
        ),
        Hypothesis(
            "nguyen_hein_pyramidal", "n1 >= n2 >= 1 (pyramidal after the wide layer)",
            n1 >= n2, f"widths {p.d0} -> {n1} -> {n2} -> 1",
        ),
        Hypothesis(
            "nguyen_hein_activation", "analytic, strictly increasing activation", True,
            p.activation,
        ),
    ]  # fmt: skip
    out.quantities["nguyen_hein_full_rank_fraction"] = float(full.mean())
    out.quantities["nguyen_hein_zero_error_fraction"] = float((~nonzero).mean())
    out.series["nguyen_hein"] = {
        "relative_error": m.relative_error.tolist(),
        "rank_F1": rank["F1"].tolist(),
        "rank_W2": rank["W2"].tolist(),
        "rank_W3": rank["W3"].tolist(),
        "sigma_ratio_F1": (m.sv_f1[:, -1] / m.sv_f1[:, 0]).tolist(),
        "status": m.status,
    }


def identity_statement(p, m: NguyenRun, q: dict, tolerance: float) -> Statement:
    """grad_{W_2} L = F_1^T Delta_2 / N at every run's final point (exact)."""
    delta2 = backprop_delta2(m.residual, m.preact2, m.w3, p.activation)
    predicted = backprop_gradient_w2(m.features, delta2, p.n)
    scale = m.sv_f1[:, 0] * np.linalg.norm(delta2, axis=(-2, -1))
    gaps = np.linalg.norm(m.grad_w2 - predicted, axis=(-2, -1)) / np.maximum(scale, 1e-300)
    q["nguyen_hein_identity_gap"] = float(gaps.max())
    return Statement.at_most(
        "nguyen_hein_mechanism",
        "max over runs ||grad_W2 L - F_1^T Delta_2 / N||_F / (||F_1||_2 ||Delta_2||_F) <= "
        f"{tolerance:.3g}, Delta_2 = (e W_3^T) * sigma'(G_2) (the proof's backpropagation "
        "step; exact)",
        float(gaps.max()), tolerance, power="exact",
        detail=f"{len(gaps)} runs",
    )  # fmt: skip


def certificate_statement(p, m: NguyenRun, full: np.ndarray) -> Statement:
    """||e|| <= N ||grad_W2 L|| / (sigma_N(F_1) min sigma'(G_2) sigma_min(W_3))."""
    N = p.n
    slope2 = activation_slope(m.preact2, p.activation).reshape(m.preact2.shape[0], -1).min(-1)
    ratios, saturated = [], 0
    for s in np.nonzero(full)[0]:
        if m.sv_f1.shape[-1] < N:
            break
        chain = float(slope2[s]) * float(m.sv_w3[s, -1])
        if chain == 0.0:  # sigma' underflowed to 0 (saturated unit): the bound is infinite
            saturated += 1
            continue
        grad_norm = float(np.linalg.norm(m.grad_w2[s]))
        bound = nguyen2017.residual_bound(N, grad_norm, float(m.sv_f1[s, -1]), chain)
        ratios.append(float(np.linalg.norm(m.residual[s])) / bound if bound > 0 else 0.0)
    return Statement.at_most(
        "nguyen_hein_certificate",
        "max ||f-y|| / (N ||grad_W2 L||_F / (sigma_N(F_1) min sigma'(G_2) sigma_min(W_3))) "
        "<= 1 over full-rank runs (the proof's mechanism; exact inequality)",
        max(ratios) if ratios else math.nan, 1.0,
        detail=f"{len(ratios)} full-rank runs; {saturated} more with a saturated unit "
        "(sigma' = 0 in float64: infinite bound, not compared)",
    )  # fmt: skip
