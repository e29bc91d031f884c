"""Figure for prune_at_init (Ramanujan et al. 2020; Lee et al. 2019; Wang et al. 2020).

Panels: edge-popup test accuracy against the kept fraction k (log x) for each width of the
frozen random network, with seed bands (mean +- 1 standard error) and the chance limit;
test accuracy after training against the sparsity for SNIP, GraSP, global magnitude at
initialisation and random pruning, with seed bands.
"""

from __future__ import annotations

from ..report import Report


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    s = report.series
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    k = np.asarray(s["k"])
    for w, mean, se in zip(s["widths"], s["ep_acc_mean"], s["ep_acc_se"], strict=True):
        mean, se = np.asarray(mean), np.asarray(se)
        (line,) = left.plot(k, mean, "o-", label=f"width factor {w:g}")
        left.fill_between(k, mean - se, mean + se, color=line.get_color(), alpha=0.2)
    left.axhline(s["chance_upper"], color="gray", ls=":", label="chance (99% upper limit)")
    left.axvline(report.params["peak_k"], color="black", lw=0.8, ls="--", label="declared peak")
    left.set_xscale("log")
    left.set_xlabel("fraction of weights kept per layer, k")
    left.set_ylabel("test accuracy (weights never trained)")
    left.set_title("edge-popup on a frozen random MLP")
    left.legend(fontsize=8)

    sparsity = 100 * np.asarray(s["sparsity"])
    for method in s["methods"]:
        mean = np.asarray(s[f"{method}_acc_mean"])
        se = np.asarray(s[f"{method}_acc_se"])
        (line,) = right.plot(sparsity, mean, "o-", label=method)
        right.fill_between(sparsity, mean - se, mean + se, color=line.get_color(), alpha=0.2)
    right.set_xlabel("sparsity at initialisation (% of weights removed)")
    right.set_ylabel("test accuracy after training (early stopping)")
    right.set_title("pruning at initialisation")
    right.legend(fontsize=8)
    fig.suptitle(f"prune_at_init ({report.params['dataset']}, seed {report.seed}): "
                 f"{report.verdict}")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
