"""Figure for sgd_stability (Wu, Ma & E 2018 Figs. 2-4; Cohen et al. 2021 Fig. 1).

Panels: (a) sharpness of the GD minima against 1/eta with the line a = 2/eta; (b) the
non-uniformity of the SGD minima against batch size with the bound sqrt(B(n-1)/(n-B))/eta;
(c) the (a, s) plane with the 1-D stability region (1 - eta a)^2 + eta^2 c_B s^2 <= 1 of the
smallest batch and of GD, and every minimum found (GD, SGD, the escaped run's new minimum);
(d) the mean-square grid: measured growth rate against rho(T); (e) edge of stability:
sharpness against step with 2/eta, loss below.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..report import Report  # noqa: E402
from ..theory import wu2018  # noqa: E402


def plot(report: Report, path: str) -> None:
    q, s, p = report.quantities, report.series, report.params
    n, eta = q["n"], q["eta"]
    minima = q["minima"]
    gd = [m for m in minima if m["batch"] == n]
    sgd = [m for m in minima if m["batch"] < n]
    fig = plt.figure(figsize=(20, 8))
    grid = fig.add_gridspec(2, 4)

    ax = fig.add_subplot(grid[:, 0])
    inv = np.array([1 / m["eta"] for m in gd])
    ax.plot(inv, [m["sharpness"] for m in gd], "o", color="C0", label="GD minima: a")
    line = np.linspace(0, inv.max() * 1.1, 50)
    ax.plot(line, 2 * line, "k--", label="a = 2/eta")
    ax.set_xlabel("1/eta")
    ax.set_ylabel("sharpness a = lambda_max(H)")
    ax.set_title("(a) GD minima sit at or below 2/eta")
    ax.legend(fontsize=8)

    ax = fig.add_subplot(grid[0, 1])
    batches = np.array([m["batch"] for m in sgd])
    ax.plot(batches, [m["s"] for m in sgd], "o", color="C1", label="SGD minima: s")
    ax.plot(batches, [m["sharpness"] for m in sgd], "s", color="C0", label="SGD minima: a")
    dense = np.arange(1, n)
    ax.plot(dense, [wu2018.nonuniformity_bound(eta, n, int(b)) for b in dense], "k--",
            label="s bound sqrt(B(n-1)/(n-B))/eta")  # fmt: skip
    ax.axhline(2 / eta, color="gray", ls=":", label="2/eta")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_title(f"(b) SGD minima at eta = {eta:g}")
    ax.legend(fontsize=7)

    ax = fig.add_subplot(grid[1, 1])
    a_max = max([m["sharpness"] for m in minima] + [2 / eta]) * 1.15
    s_max = max([m["s"] for m in minima] + [q.get("escape_settled_s", 0)]) * 1.15
    A, S = np.meshgrid(np.linspace(0, a_max, 200), np.linspace(0, s_max, 200))
    for batch, color in ((p["batch_size"], "C1"), (n, "C0")):
        c_b = wu2018.batch_factor(n, batch)
        factor = (1 - eta * A) ** 2 + eta**2 * c_b * S**2
        ax.contour(A, S, factor, levels=[1.0], colors=[color])
        ax.plot([], [], color=color, label=f"stable region boundary, B={batch}")
    for m in minima:
        marker = "o" if m["batch"] == n else "s"
        ax.plot(m["sharpness"], m["s"], marker, ms=6, label=m["label"])
    if q.get("escape_settled"):
        ax.plot(q["escape_settled_sharpness"], q["escape_settled_s"], "*", ms=12, color="red",
                label="escaped SGD run settles")  # fmt: skip
    ax.set_xlabel("sharpness a")
    ax.set_ylabel("non-uniformity s")
    ax.set_title(f"(c) the (a, s) plane at eta = {eta:g} (1-D condition)")
    ax.legend(fontsize=6)

    ax = fig.add_subplot(grid[:, 2])
    rows = s.get("mean_square", [])
    if rows:
        rho = np.array([r["rho"] for r in rows])
        rate = np.array([r["rate"] for r in rows])
        err = np.array([r["rate_se"] for r in rows])
        ax.errorbar(rho, rate, yerr=4 * err, fmt="o", ms=4, label="grid points (4 stderr)")
        lim = [min(rho.min(), rate.min()) * 0.95, max(rho.max(), rate.max()) * 1.05]
        ax.plot(lim, lim, "k--", label="rate = rho(T)")
        ax.axvline(1, color="gray", ls=":")
        ax.axhline(1, color="gray", ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("rho(T) (theory, c_B = " + ("0" if p["theory"] == "gd" else "(n-B)/(B(n-1))")
                  + ")")  # fmt: skip
    ax.set_ylabel("measured growth rate of E||e_t||^2 per step")
    ax.set_title("(d) mean-square prediction on the Gauss-Newton quadratic")
    ax.legend(fontsize=8)

    eos = s.get("edge_of_stability")
    ax = fig.add_subplot(grid[0, 3])
    ax2 = fig.add_subplot(grid[1, 3])
    if eos:
        ax.plot(eos["step"], eos["sharpness"], color="C0", label="sharpness")
        ax.axhline(eos["threshold"], color="k", ls="--", label="2/eta")
        ax.set_ylabel("sharpness")
        ax.set_title(f"(e) edge of stability, GD eta = {p['eos_eta']:g} (Chebyshev T_4)")
        ax.legend(fontsize=8)
        ax2.plot(eos["loss_step"], eos["loss"], color="C3")
        ax2.set_yscale("log")
        ax2.set_xlabel("GD step")
        ax2.set_ylabel("mean loss")
    fig.suptitle(
        f"sgd_stability: n={n}, d={q['d']}, P={q['params']}, eta={eta:g}, seed {report.seed}; "
        f"verdict: {report.verdict}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
