"""Safran & Shamir (ICML 2018): spurious local minima of the teacher-student ReLU net.

Measurement (:func:`measure`): teacher V = first k rows of I_d, students of width f k for f in
``student_factors``, init w ~ N(0, I/d), the exact population loss 1/2 E_x[(f_W(x) -
f_V(x))^2] (arc-cosine kernel), batched L-BFGS to population_grad_tol (closed-form gradient,
:func:`theorylab.nets.shallow.teacher_student_value_and_grad`); at the converged
points above the global loss (the only candidates for a spurious minimum) the dense Hessian's
spectrum (the curvature engine's batched products). At a global minimum student and teacher
units coincide, where the population loss is only C^1, so its lambda_min would not be a
curvature anyway; it is reported as nan.

Comparison (:func:`compare`): certified spurious local minima (gradient <= tol, lambda_min
>= -hess_tol ||H||, loss > spurious_tol) at student width k (the certifier sees bad minima
where they exist), none at the widest student.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...critical_points import STATUS_NAMES, batched_lbfgs, hessian_eigenvalues
from ...nets import shallow
from ...registry import Comparison
from ...report import Statement
from ...runtime import Context
from .common import L_BFGS_HISTORY, hessian_chunk


@dataclass
class StudentWidth:
    width: int
    loss: np.ndarray  # (S,) population loss at the final point
    lambda_min: np.ndarray
    lambda_abs: np.ndarray
    converged: np.ndarray
    status: list[str]


def measure(p, ctx: Context) -> list[StudentWidth]:
    S, k, d = p.seeds, p.teacher_units, p.ts_dim
    V = ctx.to(torch.eye(k, d, dtype=torch.float64))

    def loss_fn(theta):
        return shallow.teacher_student_population_loss(theta, V)

    def value_and_grad(theta):
        return shallow.teacher_student_value_and_grad(theta, V)

    rows = []
    for m in p.student_widths:
        init = ctx.randn(S, m * d, stream=f"safran/init/{m}") / math.sqrt(d)
        result = batched_lbfgs(
            loss_fn, init, p.population_grad_tol, p.max_iters, L_BFGS_HISTORY,
            rows_loss=lambda theta, index: loss_fn(theta),
            rows_value_and_grad=lambda theta, index: value_and_grad(theta),
        )  # fmt: skip
        # Only a converged run above the global loss can be a spurious minimum: its Hessian is
        # the certificate; a global minimum needs none (its lambda_min is reported as nan).
        lam_min = torch.full((S,), torch.nan, dtype=torch.float64)
        lam_abs = torch.full((S,), torch.nan, dtype=torch.float64)
        need = torch.nonzero(result.converged & (result.loss > p.spurious_tol))[:, 0]
        if need.numel():
            chunk = hessian_chunk(need.numel() * m * (m + k) * d)
            eig = hessian_eigenvalues(loss_fn, result.theta[need], chunk).cpu()
            lam_min[need.cpu()], lam_abs[need.cpu()] = eig[:, 0], eig.abs().amax(-1)
        rows.append(StudentWidth(
            width=m,
            loss=result.loss.cpu().numpy(),
            lambda_min=lam_min.numpy(),
            lambda_abs=lam_abs.numpy(),
            converged=result.converged.cpu().numpy(),
            status=[STATUS_NAMES[int(c)] for c in result.status.cpu()],
        ))  # fmt: skip
    return rows


def summarise(p, w: StudentWidth) -> dict:
    with np.errstate(invalid="ignore"):  # nan lambda_min (global minima): never a local min
        local_min = w.converged & (w.lambda_min >= -p.hess_tol * w.lambda_abs)
    spurious = local_min & (w.loss > p.spurious_tol)
    return {
        "width": w.width,
        "loss": w.loss.tolist(),
        "lambda_min": w.lambda_min.tolist(),
        "spurious": spurious.tolist(),
        "count": int(spurious.sum()),
        "global": int((w.converged & (w.loss <= p.spurious_tol)).sum()),
        "not_converged": int((~w.converged).sum()),
        "saddles": int((w.converged & ~local_min & (w.loss > p.spurious_tol)).sum()),
        "status": w.status,
    }


def compare(p, widths: list[StudentWidth], out: Comparison) -> None:
    k = p.teacher_units
    rows = [summarise(p, w) for w in widths]
    exact, widest = rows[0], rows[-1]
    summary = "; ".join(
        f"width {r['width']}: {r['count']} spurious, {r['global']} global, {r['saddles']} "
        f"saddles, {r['not_converged']} not converged" for r in rows
    )  # fmt: skip
    contrast = Statement.at_least(
        "spurious_minima_contrast",
        f"certified spurious local minima at student width k = {k} (grad <= tol, "
        "lambda_min >= -hess_tol ||H||, loss > spurious_tol) >= 1: the certifier sees bad "
        "minima where they exist (Safran & Shamir 2018)",
        exact["count"], 1,
        detail=summary,
    )  # fmt: skip
    if exact["count"] == 0 and exact["not_converged"] > 0:
        # none found, but some runs never reached a critical point
        contrast.mark_not_evaluable("inconclusive: raise --max-iters")
    out.statements += [
        contrast,
        Statement.at_most(
            "no_spurious_minima_wide",
            f"certified spurious local minima at the widest student ({widest['width']} units "
            f"= {widest['width'] // k} k) = 0",
            widest["count"], 0,
            detail=f"{p.seeds} runs; {widest['not_converged']} not converged",
        ),
    ]  # fmt: skip
    q = out.quantities
    q["spurious_counts"] = [r["count"] for r in rows]
    q["spurious_student_widths"] = [r["width"] for r in rows]
    losses = [x for r in rows for x, flag in zip(r["loss"], r["spurious"], strict=True) if flag]
    q["spurious_min_loss"] = min(losses) if losses else None
    out.series["teacher_student"] = rows
