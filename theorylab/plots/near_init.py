"""Figure for near_init: Du et al. (2019) Sec. 5's three panels plus the scaling fits.

Panels: (a) training loss vs iteration per width; (b) percentage of flipped activation
patterns vs iteration; (c) max_r ||w_r(k) - w_r(0)|| vs iteration; (d) log-log scaling of the
final quantities against width with their fitted exponents and Du et al.'s bound R'.
Lines are means over initialisations, bands their min-max spread.
"""

from __future__ import annotations

import numpy as np

from ..report import Report


def _by_width(series, key):
    widths = np.asarray(series["network_width"])
    values = np.asarray(series[key], dtype=float)
    return {int(w): values[widths == w] for w in sorted(set(widths.tolist()))}


def plot(report: Report, path: str) -> None:
    """Draw the four panels of a near_init report into ``path`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report.series
    steps = np.asarray(s["step"])
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    cmap = plt.get_cmap("viridis")
    panels = [
        ("loss", "training loss 1/2||u-y||^2", "log", 1.0),
        ("flip_fraction", "flipped activation patterns (%)", "linear", 100.0),
        ("max_distance", "max_r ||w_r(k) - w_r(0)||", "linear", 1.0),
    ]
    for ax, (key, label, yscale, factor) in zip(axes[:3], panels, strict=True):
        groups = _by_width(s, key)
        for j, (width, runs) in enumerate(groups.items()):
            color = cmap(j / max(1, len(groups) - 1))
            runs = runs * factor
            ax.plot(steps, runs.mean(axis=0), color=color, label=f"m = {width}")
            ax.fill_between(steps, runs.min(axis=0), runs.max(axis=0), color=color, alpha=0.25)
        ax.set_xlabel("GD iteration k")
        ax.set_ylabel(label)
        ax.set_yscale(yscale)
        ax.legend(fontsize=8)
    axes[0].set_title("(a) loss")
    axes[1].set_title("(b) pattern changes")
    axes[2].set_title("(c) distance from init")

    ax = axes[3]
    sc = s["scaling"]
    widths = np.asarray(sc["width"], dtype=float)
    q = report.quantities
    curves = [
        ("max_distance", "max distance", "max_distance_exponent"),
        ("relative_change", "||W-W0||_F/||W0||_F", "relative_change_exponent"),
        ("flip_fraction", "flip fraction", "flip_fraction_exponent"),
        ("gram_deviation", "||H(0)-H_inf||_2", "gram_deviation_exponent"),
        ("kernel_deviation", "kernel-dynamics deviation", "kernel_deviation_exponent"),
    ]
    grid = np.geomspace(widths.min(), widths.max(), 50)
    for j, (key, label, exp_key) in enumerate(curves):
        y = np.asarray(sc[key], dtype=float)
        color = plt.get_cmap("tab10")(j)
        ax.scatter(widths, y, color=color, s=14)
        slope, intercept = np.polyfit(np.log(widths), np.log(y), 1)
        ax.plot(grid, np.exp(intercept) * grid**slope, color=color,
                label=f"{label}: exponent {q[exp_key]:.3f}")  # fmt: skip
    if "R_prime" in sc:
        ax.scatter(widths, sc["R_prime"], marker="_", color="black", s=80,
                   label="R' (Du et al. Cor 4.1)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m")
    ax.set_title(f"(d) scaling vs width (lazy: -1/2), {report.params['parameterization']}")
    ax.legend(fontsize=7)
    fig.suptitle(
        f"near_init: n={q['n']}, d={q['d']}, eta={q['eta']:.3g}, lambda_0={q['lambda_0']:.3g}, "
        f"seed {report.seed}; verdict: {report.verdict}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
