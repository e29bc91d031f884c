"""Figure for generalization_bounds, drawn from the report alone.

Panels: (a) Neyshabur et al.'s norm term and its factors, the test error, the VC bound and the
parameter count over n against the width (log-log; mean over seeds, seeds as faint points);
(b) the capacity and the test error against the fraction of randomised labels, with the vacuity
line 1.0; (c) the coverage tests: each draw's margin bound against its risk, per model, with the
line bound = risk (a draw below it is a miss).
"""

from __future__ import annotations

import numpy as np

from ..report import Report

ARM_LABELS = {
    "two_layer": "trained two-layer nets",
    "random_features": "RF interpolants, true labels",
    "random_labels": "RF interpolants, random labels",
    "fixed_net": "net fixed before the draws",
}


def plot(report: Report, path: str) -> None:
    """Draw the three panels of a generalization_bounds report into ``path`` (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    w = report.series["width"]
    widths = np.asarray(w["widths"])
    ax = axes[0]
    curves = (
        ("norm_term", "norm term sqrt(c)||V||(||U-U0|| ||X|| + ||U0 X||)/(gamma m)", "C0"),
        ("V_F", "||V||_F", "C1"),
        ("dU_F", "||U - U0||_F", "C2"),
        ("U0X_F", "||U0 X||_F", "C3"),
        ("vc_bound", "VC bound (D = parameters)", "C5"),
        ("test_error", "test error", "k"),
    )
    for key, label, color in curves:
        values = np.asarray(w[key], dtype=np.float64)
        for row in values:
            ax.plot(widths, row, "o", color=color, alpha=0.25, markersize=3)
        ax.plot(widths, values.mean(0), "-o", color=color, label=label, markersize=4)
    ratio = np.asarray(w["parameters"], dtype=np.float64) / report.params["train_size"]
    ax.plot(widths, ratio, "--", color="C7", label="parameters / n (slope 1)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width h")
    ax.set_title("(a) trained to a fixed loss: " + _slope_text(report))
    ax.legend(fontsize=7, loc="best")

    nz = report.series["noise"]
    levels = np.asarray(nz["levels"])
    ax = axes[1]
    for key, label, color in (("capacity", "capacity (Neyshabur et al., constants 1)", "C0"),
                              ("test_error", "test error", "k")):  # fmt: skip
        values = np.asarray(nz[key], dtype=np.float64)  # (levels, seeds)
        for j in range(values.shape[1]):
            ax.plot(levels, values[:, j], "o", color=color, alpha=0.3, markersize=3)
        ax.plot(levels, values.mean(1), "-o", color=color, label=label, markersize=4)
    ax.axhline(1.0, color="red", linestyle="--", linewidth=1, label="1.0: vacuous above")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of randomised training labels")
    ax.set_title(f"(b) label noise, width {report.params['noise_width']}")
    ax.legend(fontsize=7, loc="center right")

    ax = axes[2]
    cov = report.series["coverage"]
    top = 1.0
    for j, (arm, label) in enumerate(ARM_LABELS.items()):
        if arm not in cov:
            continue
        risk = np.asarray(cov[arm]["risk"], dtype=np.float64)
        bound = np.asarray(cov[arm]["bound"], dtype=np.float64)
        finite = np.isfinite(bound)
        misses = int((risk > bound).sum())
        ax.scatter(risk[finite], bound[finite], s=12, color=f"C{j}",
                   label=f"{label} ({misses} misses)")  # fmt: skip
        if finite.any():
            top = max(top, float(bound[finite].max()))
    diagonal = np.linspace(0.01, 1.0, 100)
    ax.plot(diagonal, diagonal, color="black", linewidth=0.8, label="bound = risk (misses below)")
    ax.axhline(1.0, color="red", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlim(0, 0.6)
    ax.set_xlabel("risk (error over the whole data set)")
    ax.set_ylabel("margin bound (explicit constants)")
    ax.set_title(f"(c) coverage over {report.params['draws']} draws, delta = "
                 f"{report.params['delta']:g}")  # fmt: skip
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _slope_text(report: Report) -> str:
    q = report.quantities
    if "norm_term_slope" not in q:
        return "norm terms vs width"
    return (f"norm-term slope {q['norm_term_slope']:.3f} "
            f"[{q['norm_term_slope_lower']:.3f}, {q['norm_term_slope_upper']:.3f}]")  # fmt: skip
