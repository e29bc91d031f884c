"""Figure of the flat_minima claim, drawn from the report alone: the convnet's Hessian spectrum
(histogram, log counts, outliers marked), the stochastic Lanczos quadrature density over the
exact spectrum, the top-k eigenvalues of the attack-set solutions, sharpness against batch size,
and the linear-regression stationary errors against the formula. Panels of parts that did not
run are left out."""

from __future__ import annotations

import numpy as np

from ..report import Report


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, q = report.series, report.quantities
    panels = [
        k
        for k in ("spectrum", "density", "attack", "large_batch", "lr_over_batch")
        if (k in s)
        or (k == "density" and "spectrum" in s)
        or (k == "lr_over_batch" and "lr_over_batch_measured" in q)
    ]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, panels, strict=False):
        globals()[f"_{name}"](ax, s, q)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(f"flat_minima: {report.verdict}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _spectrum(ax, s, q):
    eig = np.asarray(s["spectrum"]["eigenvalues"])
    count = s["spectrum"]["outliers"]
    ax.hist(eig, bins=120, color="C0", log=True)
    for v in eig[:count]:
        ax.axvline(v, color="C3", lw=0.7, ls=":")
    ax.set_title(f"Hessian spectrum, P = {eig.size}: {count} outliers (red)", fontsize=8)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("count (log)")


def _density(ax, s, q):
    eig = np.asarray(s["spectrum"]["eigenvalues"])
    slq = s["spectrum"]["slq"]
    lo, hi = eig.min(), eig.max()
    grid = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 600)
    sigma = (hi - lo) / 150
    dens = np.zeros_like(grid)
    for t, w in zip(slq["nodes"], slq["weights"], strict=True):
        t, w = np.asarray(t), np.asarray(w)
        dens += (np.exp(-0.5 * ((grid[:, None] - t) / sigma) ** 2) * w).sum(axis=1)
    dens /= slq["probes"] * sigma * np.sqrt(2 * np.pi)
    exact = np.zeros_like(grid)
    for chunk in np.array_split(eig, max(1, eig.size // 500)):
        exact += np.exp(-0.5 * ((grid[:, None] - chunk) / sigma) ** 2).sum(axis=1)
    exact /= eig.size * sigma * np.sqrt(2 * np.pi)
    floor = dens.max() * 1e-7
    ax.semilogy(grid, np.maximum(exact, floor), "k", lw=1, label="exact (dense), smoothed")
    ax.semilogy(
        grid,
        np.maximum(dens, floor),
        "C1--",
        lw=1,
        label=f"SLQ {slq['probes']} probes x {slq['steps']} steps",
    )
    ax.set_title("spectral density", fontsize=8)
    ax.set_xlabel("eigenvalue")
    ax.legend(fontsize=6)


def _attack(ax, s, q):
    a = s["attack"]
    tops = np.asarray(a["top_eigenvalues"])  # (S, K, k)
    acc = np.asarray(a["test_accuracy"])
    for j, size in enumerate(a["sizes"]):
        ax.plot(
            np.arange(1, tops.shape[2] + 1),
            tops[:, j, :].mean(axis=0),
            "o-",
            ms=3,
            label=f"attack {size}: test acc {acc[:, j].mean():.3f}",
        )
    ax.set_yscale("log")
    ax.set_title("top-k eigenvalues of 100%-train solutions", fontsize=8)
    ax.set_xlabel("index")
    ax.legend(fontsize=6)


def _large_batch(ax, s, q):
    b = s["large_batch"]
    lam = np.asarray(b["lambda_max"])
    for row in lam:
        ax.plot(b["batches"], row, "o-", color="C0", alpha=0.7)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("lambda_max")
    ax.set_title("sharpness vs batch size (one line per seed)", fontsize=8)


def _lr_over_batch(ax, s, q):
    grid = q["lr_over_batch_grid"]
    x = np.arange(len(grid))
    ax.errorbar(
        x,
        q["lr_over_batch_measured"],
        yerr=np.asarray(q["lr_over_batch_se"]) * 2,
        fmt="o",
        label="measured (2 SE)",
    )
    ax.plot(x, q["lr_over_batch_predicted"], "k_", ms=14, label="exact formula")
    ax.plot(x, q["lr_over_batch_first_order"], "C3_", ms=10, label="first order")
    ax.set_xticks(x, [f"{e:g}/{b}" for e, b in grid], fontsize=6)
    ax.set_xlabel("eta / B")
    ax.set_title("online SGD stationary error", fontsize=8)
    ax.legend(fontsize=6)
