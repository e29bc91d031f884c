"""Figure for pruning (Malach et al. 2020; Pensia et al. 2020).

Panels: sup error of the pruned network against candidates per target weight for both
constructions (log-log), with eps; candidates needed for the success rate q against 1/eps
(log x-axis), subset sum with its logarithmic fit and single product with its power-law fit
and the closed-form prediction; the median width factor against the target size d L;
the target and the pruned network on a 1-D slice (chord) of the unit ball.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..report import Report  # noqa: E402


def plot(report: Report, path: str) -> None:
    s, q, p = report.series, report.quantities, report.params
    panels = 4 if "eps_ladder" in s else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.2))
    axes = list(np.atleast_1d(axes))

    ax = axes.pop(0)
    for kind, color in (("subset_sum", "tab:blue"), ("single_product", "tab:orange")):
        curve = s["error_vs_candidates"][kind]
        ax.plot(curve["candidates"], curve["sup_error"], "o-", color=color, label=kind)
    ax.axhline(p["eps"], color="black", ls="--", lw=1, label=f"eps = {p['eps']:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("candidates per target weight n")
    ax.set_ylabel("sup_x |f_hat(x) - f(x)| (test set)")
    ax.set_title("error vs candidates per weight")
    ax.legend(fontsize=8)

    if "eps_ladder" in s:
        lad = s["eps_ladder"]
        inv = 1 / np.asarray(lad["eps"])
        ax = axes.pop(0)
        sub = np.asarray(lad["subset_sum"], dtype=float)
        single = np.asarray(lad["single_product"], dtype=float)
        grid = np.geomspace(inv.min(), inv.max(), 50)
        ax.plot(inv, sub, "o", color="tab:blue", label="subset sum (measured)")
        if np.isfinite(sub).all():
            b, a = np.polyfit(np.log2(inv), sub, 1)
            ax.plot(grid, a + b * np.log2(grid), color="tab:blue",
                    label=f"{a:.1f} + {b:.2f} log2(1/eps)")  # fmt: skip
        ax.plot(inv, single, "s", color="tab:orange", label="single product (measured)")
        if np.isfinite(single).all():
            k, c = np.polyfit(np.log(inv), np.log(single), 1)
            ax.plot(grid, np.exp(c) * grid**k, color="tab:orange",
                    label=f"{np.exp(c):.2g} (1/eps)^{k:.2f}")  # fmt: skip
        ax.plot(inv, lad["single_product_predicted"], "k+", ms=9, label="closed form")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("1/eps (per-weight tolerance)")
        ax.set_ylabel(f"candidates for success rate {p['success_rate']}")
        ax.set_title("candidates needed: logarithmic vs power law")
        ax.legend(fontsize=7)

        ax = axes.pop(0)
        size = s["size_ladder"]
        ax.plot(size["dL"], size["needed"], "o-", color="tab:blue")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("target size d * L")
        ax.set_ylabel("median width factor needed (subset sum)")
        exponent = q.get("size_power_exponent", np.nan)
        ax.set_title(f"width factor vs target size: exponent {exponent:.3f}")

    ax = axes.pop(0)
    sl = s["slice"]
    ax.plot(sl["s"], sl["target"], color="black", lw=2, label="target f")
    ax.plot(sl["s"], sl["pruned"], color="tab:red", ls="--", label="pruned f_hat")
    ax.set_xlabel("s  (x = s a + b/2)")
    ax.set_ylabel("output")
    ax.set_title("target and pruned net on a 1-D slice")
    ax.legend(fontsize=8)

    fig.suptitle(
        f"pruning: L={p['depth']}, d={p['input_dim']}, n={p['candidates']} ({p['construction']}),"
        f" eps={p['eps']:g}, sup error {q['sup_error']:.3g}, kept {q['kept_weights']} "
        f"({q['keep_fraction']:.3g}); seed {report.seed}; verdict: {report.verdict}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
