"""Figure of a landscape report: the SLQ spectral density (log scale) with the exact spectrum
as a histogram where the report holds it, the top-k eigenvalues and 2/eta marked."""

from __future__ import annotations

import numpy as np

from ..report import Report


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q, s = report.quantities, report.series
    fig, ax = plt.subplots(figsize=(7, 4))
    grid = np.asarray(s["density"]["grid"])
    values = np.asarray(s["density"]["values"])
    floor = max(values.max() * 1e-6, 1e-300)
    ax.semilogy(
        grid,
        np.maximum(values, floor),
        color="C0",
        label=f"SLQ density ({q['slq_probes']} probes x {q['slq_steps']} steps)",
    )
    if "eigenvalues" in s:
        eig = np.asarray(s["eigenvalues"])
        width = grid[1] - grid[0]
        counts, edges = np.histogram(eig, bins=np.arange(grid[0], grid[-1] + 2 * width, 4 * width))
        dens = counts / (len(eig) * np.diff(edges))
        ax.stairs(
            np.maximum(dens, floor),
            edges,
            color="k",
            alpha=0.5,
            label="exact spectrum (dense Hessian)",
        )
    for j, v in enumerate(q["top_eigenvalues"]):
        ax.axvline(v, color="C3", lw=0.8, ls=":", label="top-k (Lanczos)" if j == 0 else None)
    bound = q.get("sharpness_bound")
    if bound is not None and bound <= grid[-1] * 1.5:
        ax.axvline(bound, color="C2", lw=1.2, label="2/eta")
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("density")
    ax.set_title(
        f"landscape: trace {q['trace']:.4g}, lambda_max {q['lambda_max']:.4g}, "
        f"verdict {report.verdict}",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
