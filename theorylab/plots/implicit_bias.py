"""Figure for implicit_bias: which interpolant GD, SGD, Adam and a diagonal net choose.

Panels: (a) ||x_k - x_lim|| vs step for GD, mini-batch SGD (mean over runs) from x_0, and
||x_k - pinv(A) b|| for Adam from zero (it levels off: Adam ends elsewhere); (b) the diagonal
network's solution path: l1 and l2 norms of GD's limit (markers) and of argmin Q_alpha (lines)
against alpha, with the minimum-l1 and minimum-l2 norms (rich regime at small alpha, kernel
regime at large alpha); (c) the discrepancy ||beta_GD(eta) - argmin Q_alpha|| / ||argmin
Q_alpha|| against the step size on log-log axes with its fitted exponent (1 predicted).
"""

from __future__ import annotations

import numpy as np

from ..report import Report


def plot(report: Report, path: str) -> None:
    """Draw the three panels of a implicit_bias report into ``path`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = report.quantities
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))

    lin = report.series["linear"]
    steps = np.asarray(lin["step"])
    ax = axes[0]
    names = {"gd": "GD from x_0 (to x_lim)", "sgd": "mini-batch SGD from x_0 (to x_lim)",
             "adam": "Adam from 0 (to pinv(A) b)"}  # fmt: skip
    for key, label in names.items():
        if key in lin:
            values = np.maximum(np.asarray(lin[key], dtype=float), 1e-300)
            ax.semilogy(steps[: len(values)], values, label=label)
    ax.set_xlabel("step k")
    ax.set_ylabel("distance to the predicted limit")
    ax.set_title(f"(a) A x = b, n = {q['n']}, d = {q['d']}: min-norm limit")
    ax.legend(fontsize=8)

    dg = report.series["diagonal"]
    alphas = np.asarray(dg["alpha"])
    ax = axes[1]
    ax.semilogx(alphas, dg["l1_q"], color="tab:blue", label="||beta||_1, argmin Q_alpha")
    ax.semilogx(alphas, dg["l1_gd"], "o", color="tab:blue", label="||beta||_1, GD limit")
    ax.semilogx(alphas, dg["l2_q"], color="tab:red", label="||beta||_2, argmin Q_alpha")
    ax.semilogx(alphas, dg["l2_gd"], "s", color="tab:red", label="||beta||_2, GD limit")
    ax.axhline(dg["min_l1"], color="tab:blue", linestyle=":", label="min ||beta||_1 (LP)")
    ax.axhline(dg["min_l2"], color="tab:red", linestyle=":", label="min ||beta||_2 (pinv)")
    ax.set_xlabel("initialisation scale alpha")
    ax.set_ylabel("norm of the interpolant")
    ax.set_title("(b) diagonal net: rich (l1) to kernel (l2) regime")
    ax.legend(fontsize=7)

    ax = axes[2]
    etas, disc = np.asarray(dg["fit_eta"]), np.asarray(dg["fit_discrepancy"])
    ax.loglog(etas, disc, "o-", label=f"alpha = {dg['fit_alpha']:g}")
    ax.loglog(etas, disc[0] * etas / etas[0], "k:", label="slope 1 (gradient-flow limit)")
    ax.set_xlabel("GD step size eta")
    ax.set_ylabel("||beta_GD - argmin Q_alpha|| / ||argmin Q_alpha||")
    ax.set_title(f"(c) step-size exponent {q['step_size_exponent']:.3f}")
    ax.legend(fontsize=8)

    fig.suptitle(f"implicit_bias, seed {report.seed}; verdict: {report.verdict}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
