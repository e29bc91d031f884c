"""Figure for no_bad_minima: three panels from one report.

(a) Soudry & Carmon: fraction of runs at zero training error against d0 d1 / N, with the
    theorem's threshold N = d0 d1 (ratio 1), the empirical d0 d1 = 2N and the parameter floor
    d1 (d0 + 1) = N (ratio d0/(d0+1)) marked;
(b) final relative training error ||f-y||^2/||y||^2 per width (log scale; exact zeros drawn at
    the floor of the axis), markers by optimiser status (converged, stalled at a kink or the
    rounding floor, iteration budget);
(c) Safran & Shamir: smallest Hessian eigenvalue against final population loss for every
    converged teacher-student run above the global loss (the candidates the Hessian
    certifies), by student width; certified spurious minima circled. At a global minimum
    student and teacher units coincide, where the population loss is only C^1 (its angular
    second derivative ~ 1/sin(angle)), so no eigenvalue is computed there (nan, not drawn).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..report import Report  # noqa: E402

ERROR_FLOOR = 1e-20
STATUS_MARKERS = {"converged": "o", "stalled": "x", "budget": "s", "nonfinite": "^"}


def plot(report: Report, path: str) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    _zero_error_fraction(axes[0], report)
    _error_distribution(axes[1], report)
    _hessian_vs_loss(axes[2], report)
    p = report.params
    fig.suptitle(
        f"no_bad_minima: N={p['n']}, d0={p['d0']}, {p['seeds']} runs per width, leak "
        f"{p['leak']}, noise std {p['noise_std']}; teacher k={p['teacher_units']}; "
        f"seed {report.seed}; verdict: {report.verdict}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _zero_error_fraction(ax, report: Report) -> None:
    s = report.series["soudry"]
    ratio = np.asarray(s["ratio"], dtype=float)
    ax.plot(ratio, s["zero_fraction"], "o-", color="tab:blue", label="fraction at zero error")
    ax.axvline(1.0, color="black", ls="--", label="N = d0 d1 (Soudry & Carmon)")
    ax.axvline(2.0, color="gray", ls=":", label="d0 d1 = 2N")
    ax.axvline(s["parameter_floor_ratio"], color="tab:red", ls="-.", label="d1(d0+1) = N")
    ax.set_xlabel("d0 d1 / N")
    ax.set_ylabel("fraction of runs with ||f-y||^2/||y||^2 <= zero_tol")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("(a) zero training error vs over-parameterization")
    ax.legend(fontsize=7, loc="lower right")


def _error_distribution(ax, report: Report) -> None:
    s = report.series["soudry"]
    zero_tol = report.params["zero_tol"]
    labelled: set[str] = set()
    for j, (errors, statuses) in enumerate(zip(s["relative_error"], s["status"], strict=True)):
        errors = np.maximum(np.asarray(errors, dtype=float), ERROR_FLOOR)
        jitter = np.linspace(-0.15, 0.15, len(errors))
        for status, marker in STATUS_MARKERS.items():
            mask = np.asarray(statuses) == status
            if mask.any():
                ax.scatter(j + jitter[mask], errors[mask], marker=marker, s=18,
                           color=plt.get_cmap("tab10")(list(STATUS_MARKERS).index(status)),
                           label=None if status in labelled else status)  # fmt: skip
                labelled.add(status)
    ax.axhline(zero_tol, color="black", ls="--", lw=0.8, label="zero_tol")
    ax.set_xticks(range(len(s["width"])))
    ax.set_xticklabels([f"d1={w}\n({r:.2g})" for w, r in zip(s["width"], s["ratio"], strict=True)])
    ax.set_yscale("log")
    ax.set_ylabel("final ||f-y||^2 / ||y||^2")
    ax.set_title("(b) final training error per width (d0 d1/N)")
    ax.legend(fontsize=7)


def _hessian_vs_loss(ax, report: Report) -> None:
    rows = report.series["teacher_student"]
    k = report.params["teacher_units"]
    cmap = plt.get_cmap("viridis")
    for j, row in enumerate(rows):
        loss = np.maximum(np.asarray(row["loss"], dtype=float), ERROR_FLOOR)
        lam = np.asarray(row["lambda_min"], dtype=float)
        color = cmap(j / max(1, len(rows) - 1))
        ax.scatter(loss, lam, color=color, s=18,
                   label=f"student {row['width']} = {row['width'] // k}k: "
                   f"{row['count']} certified spurious")  # fmt: skip
        spurious = np.asarray(row["spurious"], dtype=bool)
        if spurious.any():
            ax.scatter(loss[spurious], lam[spurious], s=90, facecolors="none",
                       edgecolors="tab:red")  # fmt: skip
    values = np.asarray([v for row in rows for v in row["lambda_min"]], dtype=float)
    values = values[np.isfinite(values)]  # global minima carry no certificate (nan)
    if values.size:
        ax.set_ylim(min(values.min() * 3, -1e-5), max(values.max() * 3, 1e-5))
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axvline(report.params["spurious_tol"], color="tab:red", ls="--", lw=0.8,
               label="spurious_tol")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.set_xlabel("final population loss")
    ax.set_ylabel("smallest Hessian eigenvalue")
    ax.set_title(f"(c) teacher-student, k={k} (circled: certified spurious)")
    ax.legend(fontsize=7)
