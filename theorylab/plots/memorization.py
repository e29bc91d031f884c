"""Figure for memorization: Zhang et al. (2017) Fig. 1a's panel and Thm 1's construction.

Panels: (a) training accuracy vs Adam step for true labels, shuffled labels, random pixels and
synthetic random labels (the dotted line is chance, 1/10); (b) the construction's fitted values
c(x_i) against the labels y_i (on the diagonal when the network interpolates); (c) the
constructed network as a function of the projection t = a.x, c(t) = sum_j w_j relu(t - b_j), a
piecewise-linear interpolant through the points (z_i, y_i) with a kink at every bias b_j.
"""

from __future__ import annotations

import numpy as np

from ..report import Report

LABELS = {
    "digits_true": "digits, true labels",
    "digits_shuffled": "digits, shuffled labels",
    "digits_random_pixels": "random pixels, true labels",
    "synthetic_random": "Gaussian inputs, random labels",
}
CURVE_POINTS = 4000


def plot(report: Report, path: str) -> None:
    """Draw the three panels of a memorization report into ``path`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = report.quantities
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))

    ax = axes[0]
    for j, (name, accuracy) in enumerate(report.series["train_accuracy"].items()):
        fit = q.get(f"{name}_steps_to_fit")
        suffix = f" (100% at step {fit})" if fit is not None else " (not fitted)"
        ax.plot(np.arange(len(accuracy)), accuracy, color=plt.get_cmap("tab10")(j),
                label=LABELS.get(name, name) + suffix)  # fmt: skip
    ax.axhline(0.1, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("full-batch Adam step")
    ax.set_ylabel("training accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"(a) fitting labels: width {report.params['width']}, "
                 f"{q['mlp_parameters']} parameters, n = {q['train_size']}")  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")

    c = report.series["construction"]
    labels, fitted = np.asarray(c["label"]), np.asarray(c["fitted"])
    ax = axes[1]
    ax.scatter(labels, fitted, s=10)
    lo, hi = labels.min(), labels.max()
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)
    ax.set_xlabel("label y_i")
    ax.set_ylabel("network output c(x_i)")
    ax.set_title(f"(b) Thm 1 network, {q['weight_count']} = 2n + d weights; "
                 f"max error {q['max_fit_error']:.2g}")  # fmt: skip

    ax = axes[2]
    z, bias, weight = np.asarray(c["z"]), np.asarray(c["bias"]), np.asarray(c["weight"])
    grid = np.linspace(bias[0], z[-1] + 0.05 * (z[-1] - bias[0]), CURVE_POINTS)
    curve = np.maximum(grid[:, None] - bias[None, :], 0.0) @ weight
    ax.plot(grid, curve, color="tab:orange", linewidth=0.8, label="c(t) = sum_j w_j relu(t - b_j)")
    ax.scatter(z, labels, s=8, color="tab:blue", zorder=3, label="(z_i, y_i)")
    ax.set_xlabel("projection t = a.x")
    ax.set_ylabel("output")
    ax.set_title(f"(c) the interpolant along a (n = {q['n']}, d = {q['d']})")
    ax.legend(fontsize=8)

    fig.suptitle(f"memorization (Zhang et al. 2017), seed {report.seed}; verdict: {report.verdict}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
