"""One call from (model, data, loss) to a :class:`~theorylab.report.Report`: the landscape
quantities, the Wu-Ma-E verdict as statements, and the run's hypotheses."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from .. import __version__, curvature
from ..errors import Inconclusive, UsageError
from ..report import Hypothesis, Report
from ..runtime import Context
from . import hutchinson, keskar, slq, wu_ma_e
from .module import ModelLoss

# Models up to this many parameters get the dense Hessian (its exact spectrum goes into the
# report's series and the figure): P^2 doubles, 32 MiB at 2048.
DENSE_BELOW = 2048
# A point "is a minimum" for the hypotheses' purposes when ||grad L|| <= GRADIENT_TOL (1 + L) and
# "interpolates" when L <= LOSS_TOL: reporting thresholds only (Wu, Ma & E's analysis assumes an
# interpolating minimum; the verdict is computed either way).
GRADIENT_TOL = 1e-3
LOSS_TOL = 1e-3
DENSITY_POINTS = 400


def analyze(
    model: torch.nn.Module | ModelLoss,
    data=None,
    *,
    lr: float,
    batch_size: int | None = None,
    loss: Any = "auto",
    top_k: int = 5,
    probes: int = 100,
    exact_trace_below: int = 2048,
    slq_probes: int = 4,
    slq_steps: int = 64,
    epsilon: float = 1e-3,
    nonuniformity: bool = True,
    seed: int = 0,
    device: str = "cpu",
    dtype: str = "float64",
    tol: float = 1e-12,
    report_params: dict | None = None,
) -> Report:
    """Curvature report of ``model`` on ``data`` at its current weights.

    Quantities: ``top_eigenvalues`` (Lanczos, descending, length ``top_k``), ``lambda_max``,
    ``trace`` and ``trace_se`` (exact, se 0, when P <= ``exact_trace_below``; else Hutchinson
    with ``probes`` Rademacher probes), ``epsilon_sharpness`` (Keskar et al., box size
    ``epsilon``; 0 skips it), ``nonuniformity`` s (Wu, Ma & E; when ``batch_size`` < n),
    ``loss``, ``gradient_norm``, ``accuracy`` (integer targets), ``n``, ``num_params``.
    Series: stochastic Lanczos quadrature (``slq_probes`` x ``slq_steps``) nodes, weights and a
    smoothed density, and the exact spectrum when P <= 2048. Statements: the Wu-Ma-E
    conditions at step ``lr`` and batch ``batch_size`` (default n, i.e. GD).

    Bad input (k > P, a batch larger than n, ...) raises UsageError before any curvature work;
    a non-finite loss or curvature gives an inconclusive report (exit 3).
    """
    ctx = Context(seed=seed, device=device, dtype=dtype)
    start = time.perf_counter()
    ml = (
        model
        if isinstance(model, ModelLoss)
        else ModelLoss(model, data, loss=loss, dtype=ctx.torch_dtype, device=ctx.torch_device)
    )
    P, n = ml.num_params, ml.n
    B = n if batch_size is None else int(batch_size)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise UsageError(f"lr must be a positive number, got {lr!r}")
    if not 1 <= B <= n:
        raise UsageError(f"batch size must be in 1..{n} (the number of samples), got {B}")
    if not 1 <= top_k <= P:
        raise UsageError(f"top-k must be in 1..{P} (the number of parameters), got {top_k}")
    if probes < 2:
        raise UsageError(f"probes must be >= 2 (a standard error needs two), got {probes}")
    if slq_probes < 1 or slq_steps < 1:
        raise UsageError("slq probes and steps must be >= 1")
    if epsilon < 0:
        raise UsageError(f"epsilon must be >= 0, got {epsilon}")
    params = dict(report_params or {})
    params.update(
        lr=float(lr),
        batch_size=B,
        loss=ml.loss_name,
        top_k=top_k,
        probes=probes,
        exact_trace_below=exact_trace_below,
        slq_probes=slq_probes,
        slq_steps=slq_steps,
        epsilon=epsilon,
        nonuniformity=nonuniformity,
        tol=tol,
    )
    report = Report(claim="landscape", params=params, seed=seed, device=device, dtype=dtype)
    try:
        _fill(
            report,
            ml,
            ctx,
            float(lr),
            B,
            top_k,
            probes,
            exact_trace_below,
            slq_probes,
            slq_steps,
            epsilon,
            nonuniformity,
            tol,
        )
    except Inconclusive as exc:
        report.failure, report.failure_step = str(exc), exc.step
    report.theorylab_version, report.torch_version = __version__, torch.__version__
    report.run_hash = _run_hash(params, ctx)
    report.timing = {"total_s": round(time.perf_counter() - start, 3)}
    return report


def _run_hash(params: dict, ctx: Context) -> str:
    from ..registry import run_hash

    return run_hash("landscape", params, ctx)


def _fill(
    report,
    ml,
    ctx,
    lr,
    B,
    top_k,
    probes,
    exact_below,
    slq_probes,
    slq_steps,
    epsilon,
    want_nonuniformity,
    tol,
):
    theta = ml.theta0
    P, n = ml.num_params, ml.n
    loss = ml.value(theta)
    leaf = theta.clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(ml.loss(leaf), leaf)
    gradient_norm = float(g.norm())
    if not math.isfinite(gradient_norm):
        raise Inconclusive(f"the gradient at the given weights is not finite ({gradient_norm})")
    hvp = curvature.hvp_fn(ml.loss, theta)
    top = curvature.eigenpairs(hvp, P, k=top_k, which="LA", tol=tol, like=theta)
    bottom = curvature.eigenpairs(hvp, P, k=1, which="SA", tol=tol, like=theta)
    tr = hutchinson.trace(
        hvp.batched, P, probes, ctx.generator("hutchinson"), exact_below=exact_below, like=theta
    )
    density = slq.slq_density(hvp, P, slq_probes, slq_steps, ctx.generator("slq"), like=theta)
    q: dict[str, Any] = {
        "top_eigenvalues": top.values,
        "lambda_max": top.values[0],
        "lambda_min": bottom.values[0],
        "trace": tr.value,
        "trace_se": tr.se,
        "trace_method": tr.method,
        "trace_probes": tr.probes,
        "loss": loss,
        "loss_name": ml.loss_name,
        "accuracy": ml.accuracy(theta),
        "gradient_norm": gradient_norm,
        "n": n,
        "num_params": P,
        "lanczos_products": top.products + bottom.products,
        "lanczos_error_estimates": top.errors,
        "lanczos_residuals": top.residuals,
        "slq_probes": density.probes,
        "slq_steps": density.steps,
        "slq_products": density.products,
        "hutchinson_products": tr.products,
    }
    series: dict[str, Any] = {"slq": density.as_series()}
    if P <= DENSE_BELOW:
        H = curvature.dense_hessian(ml.loss, theta)
        exact = torch.linalg.eigvalsh(H.to(torch.float64)).flip(0).cpu().numpy()
        series["eigenvalues"] = exact.tolist()
    lo = min(q["lambda_min"], 0.0)
    hi = max(q["lambda_max"], 0.0)
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    sigma = max((hi - lo) / 100.0, 1e-12)
    grid = np.linspace(lo - pad, hi + pad, DENSITY_POINTS)
    series["density"] = {
        "grid": grid.tolist(),
        "values": density.density(grid, sigma).tolist(),
        "sigma": sigma,
    }
    if epsilon > 0:
        es = keskar.epsilon_sharpness(ml.loss, theta, epsilon, generator=ctx.generator("keskar"))
        q["epsilon_sharpness"] = es.phi
        q["epsilon"] = epsilon
        q["epsilon_max_loss"] = es.max_loss
    s = None
    if want_nonuniformity and B < n:
        X, y = ml.full_data()
        op = wu_ma_e.sigma_operator(ml.rowwise_losses, theta, X, y)
        nu = curvature.eigenpairs(op, P, k=1, which="LA", tol=max(tol, 1e-10), like=theta)
        s = math.sqrt(max(nu.value, 0.0))
        q["nonuniformity"] = s
        q["nonuniformity_products"] = nu.products
    verdict = wu_ma_e.StabilityVerdict(q["lambda_max"], s, lr, B, n)
    q["sharpness_bound"] = verdict.sharpness_bound
    q["nonuniformity_bound"] = verdict.nonuniformity_bound
    report.statements = verdict.statements()
    report.hypotheses = [
        Hypothesis(
            "stationary",
            "the weights are a stationary point (Wu, Ma & E linearise at a minimum)",
            gradient_norm <= GRADIENT_TOL * (1 + loss),
            f"||grad L|| = {gradient_norm:.3g} (reported as met below {GRADIENT_TOL:g} (1 + L))",
        ),
        Hypothesis(
            "interpolation",
            "every f_i is near 0 (the analysis assumes f_i(x*) = 0)",
            loss <= LOSS_TOL,
            f"L = {loss:.3g} (reported as met below {LOSS_TOL:g})",
        ),
        Hypothesis(
            "minimum",
            "the Hessian is positive semi-definite (a minimum, not a saddle)",
            q["lambda_min"] >= -1e-6 * max(abs(q["lambda_max"]), 1e-300),
            f"lambda_min = {q['lambda_min']:.3g}, lambda_max = {q['lambda_max']:.3g}",
        ),
    ]
    report.quantities = q
    report.series = series
