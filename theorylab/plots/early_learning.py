"""Figure for early_learning, drawn from the report alone.

Panels: (a) accuracy over training steps of the clean-labelled training points (on their
labels), of the noisy-labelled ones (on their corrupted labels: memorisation) and of the test
split (true labels), one faint line per seed and the mean, with the fit level, the fit times and
the validation-optimal steps marked; (b) test accuracy with and without label noise, with the
early-stopping points.
"""

from __future__ import annotations

import numpy as np

from ..report import Report


def plot(report: Report, path: str) -> None:
    """Draw the two panels of an early_learning report into ``path`` (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report.series
    steps = np.asarray(s["steps"], dtype=np.float64)
    monitor = np.asarray(s["monitor_steps"], dtype=np.float64)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))

    ax = axes[0]
    for key, label, color, x in (("clean", "clean-labelled train points", "C0", steps),
                                 ("noisy", "noisy-labelled train points (their labels)", "C3",
                                  steps),
                                 ("test", "test points (true labels)", "k", monitor)):  # fmt: skip
        values = np.asarray(s[key], dtype=np.float64)
        for row in values:
            ax.plot(x, row, color=color, alpha=0.2, linewidth=0.8)
        ax.plot(x, values.mean(0), color=color, linewidth=2, label=label)
    ax.axhline(s["fit_level"], color="gray", linestyle=":", linewidth=1,
               label=f"fit level {s['fit_level']:g}")  # fmt: skip
    for t in s["t_clean"]:
        ax.axvline(t, color="C0", linestyle="--", linewidth=0.6, alpha=0.6)
    for t in s["t_noisy"]:
        if np.isfinite(t):
            ax.axvline(t, color="C3", linestyle="--", linewidth=0.6, alpha=0.6)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, steps.max())
    ax.set_xlabel("full-batch GD step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    q = report.quantities
    ax.set_title(f"(a) {report.params['dataset']}, label noise {report.params['label_noise']:g}: "
                 f"t_noisy / t_clean = {q.get('fit_time_ratio', float('nan')):.3g}")  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[1]
    for key, label, color in (("test", f"noise {report.params['label_noise']:g}", "C3"),
                              ("test_no_noise", "no noise (control)", "C2")):  # fmt: skip
        values = np.asarray(s[key], dtype=np.float64)
        for row in values:
            ax.plot(monitor, row, color=color, alpha=0.25, linewidth=0.8)
        ax.plot(monitor, values.mean(0), color=color, linewidth=2, label=label)
    test = np.asarray(s["test"], dtype=np.float64)
    for best, row in zip(s["best_step"], test, strict=True):
        ax.plot([best], [row[int(np.searchsorted(monitor, best))]], "v", color="C3")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, monitor.max())
    ax.set_xlabel("full-batch GD step")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"(b) early stopping at the validation optimum (triangles)\ngain "
                 f"{q.get('early_stopping_gain', float('nan')):+.3f} with noise, "
                 f"{q.get('zero_noise_gain', float('nan')):+.3f} without")  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
