"""Figure for supermask (Zhou, Lan, Liu & Yosinski, NeurIPS 2019).

Panels: test accuracy after retraining against the hidden-layer density (log x) for every mask
criterion, with seed bands (mean +- 1 standard error); the large_final ticket against its
variants (pruned weights frozen at init, kept weights re-drawn with their signs or with random
signs, the mask of another seed's network); the seed's table as grouped bars (weights w_i or
their signed constant; mask from large_final_same_sign untrained, or learned; trained weights)
with two-sided 95% t intervals over seeds, per-seed dots and the chance limit.
"""

from __future__ import annotations

from ..report import Report


def _curves(ax, density, means, ses, names, styles=None):
    import numpy as np

    for name in names:
        mean, se = np.asarray(means[name]), np.asarray(ses[name])
        (line,) = ax.plot(density, mean, (styles or {}).get(name, "o-"), label=name)
        ax.fill_between(density, mean - se, mean + se, color=line.get_color(), alpha=0.2)
    ax.set_xscale("log")
    ax.set_xticks(list(density), [f"{d:g}" for d in density])
    ax.minorticks_off()
    ax.set_xlabel("kept fraction of the hidden layers (log scale)")


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch

    s = report.series
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.6))
    density = np.asarray(s["density"])
    _curves(left, density, s["acc_mean"], s["acc_se"], s["criteria"])
    left.set_ylabel("test accuracy after retraining from w_i")
    left.set_title("mask criteria")
    left.legend(fontsize=7)

    means = {"ticket (large_final)": s["acc_mean"]["large_final"], **s["variant_mean"]}
    ses = {"ticket (large_final)": s["acc_se"]["large_final"], **s["variant_se"]}
    _curves(middle, density, means, ses, list(means),
            {name: "s--" for name in s["variants"]})  # fmt: skip
    middle.set_ylabel("test accuracy after retraining")
    middle.set_title("zeros, signs, another network's mask")
    middle.legend(fontsize=7)

    groups = [("untrained mask", "mask_init", "mask_signed_constant"),
              ("learned mask", "learned_init", "learned_signed_constant"),
              ("trained weights", "trained", None)]  # fmt: skip
    width = 0.38
    for g, (_label, init_row, sc_row) in enumerate(groups):
        rows = [(init_row, -width / 2, "C0"),
                (sc_row, width / 2, "C1")] if sc_row else [(init_row, 0.0, "C2")]  # fmt: skip
        for row, offset, color in rows:
            mean = s["table_mean"][row]
            err = [[mean - s["table_lower"][row]], [s["table_upper"][row] - mean]]
            right.bar(g + offset, mean, width, yerr=err, color=color, capsize=4, alpha=0.8)
            values = s["table_values"][row]
            right.plot([g + offset] * len(values), values, "k.", ms=4)
    chance = right.axhline(s["chance_upper"], color="gray", ls=":")
    handles = [Patch(color="C0", alpha=0.8), Patch(color="C1", alpha=0.8),
               Patch(color="C2", alpha=0.8), chance]  # fmt: skip
    labels = ["weights w_i (init)", "signed constant sign(w_i) std", "trained dense weights",
              "chance (99% upper limit)"]  # fmt: skip
    right.set_xticks(range(len(groups)), [g[0] for g in groups])
    right.set_ylabel("test accuracy (95% t interval over seeds)")
    right.set_title(f"supermasks (hidden density {s['supermask_density']:g}, untrained)")
    right.set_ylim(0, 1.2)
    right.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    right.legend(handles, labels, fontsize=7, loc="upper center", ncol=2)
    fig.suptitle(f"supermask ({report.params['dataset']}, seed {report.seed}): {report.verdict}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
