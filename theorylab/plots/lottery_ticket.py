"""Figure for lottery_ticket: Frankle & Carbin's (2019) panels, drawn from the report alone.

Panels: (a) test accuracy at the early-stopping iteration vs percent of weights remaining (log
x) for the ticket, its random re-initialisation and a random mask of equal per-layer counts
(lines: seed means; bands: the range over seeds), the rewound ticket dashed, the dense accuracy
dotted; (b) early-stopping iteration vs percent remaining (bands: +- 1 standard error) and
the convergence iteration (dashed: first step within 20% of the minimum validation loss);
(c) mean |theta_final - theta_0| in the dense training of the weights the ticket keeps and of
those it prunes, per layer; (d) test error along the segment between two copies trained from
the same start with different data orders (dense and tickets); (e) tickets of the base and of
the half-width network against the number of remaining weights; (f) transfer: tickets vs random
masks re-trained on the shifted data set and with the other optimiser.
"""

from __future__ import annotations

import numpy as np

from ..report import Report

COLORS = {"ticket": "tab:blue", "reinit": "tab:orange", "random_mask": "tab:green",
          "rewind": "tab:purple", "narrow": "tab:red"}  # fmt: skip
LABELS = {"ticket": "ticket (reset to theta_0)", "reinit": "random re-init",
          "random_mask": "random mask", "rewind": "ticket rewound to theta_k"}  # fmt: skip


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, q, params = report.series, report.quantities, report.params
    pct = 100 * np.asarray(s["density"])
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))

    ax = axes[0, 0]
    for key in ("ticket", "reinit", "random_mask"):
        mean = np.asarray(s[f"acc_{key}"])
        ax.plot(pct, mean, "o-", ms=3, color=COLORS[key], label=LABELS[key])
        ax.fill_between(pct, s[f"acc_{key}_min"], s[f"acc_{key}_max"], color=COLORS[key],
                        alpha=0.18, linewidth=0)  # fmt: skip
    ax.plot(pct, s["acc_rewind"], "--", color=COLORS["rewind"], label=LABELS["rewind"])
    ax.axhline(s["acc_dense"][0], color="black", linestyle=":", linewidth=1, label="dense")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("percent of weights remaining")
    ax.set_ylabel("test accuracy at early stopping")
    lo = min(np.min(s["acc_ticket_min"]), np.min(s["acc_reinit_min"]))
    ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    ax.set_title(f"(a) IMP on {params['dataset']}, {params['seeds']} seeds (bands: seed range)")
    ax.legend(fontsize=8, loc="lower left")

    ax = axes[0, 1]
    for key in ("ticket", "reinit", "random_mask"):
        mean, se = np.asarray(s[f"early_stop_{key}"]), np.asarray(s[f"early_stop_{key}_se"])
        ax.plot(pct, mean, "o-", ms=3, color=COLORS[key], label=LABELS[key])
        ax.fill_between(pct, mean - se, mean + se, color=COLORS[key], alpha=0.2, linewidth=0)
    for key in ("ticket", "reinit"):
        ax.plot(pct, s[f"converged_{key}"], "--", color=COLORS[key],
                label=f"{LABELS[key]}: convergence (asserted)")  # fmt: skip
    ax.axhline(q["steps"], color="gray", linestyle=":", linewidth=1, label="last step")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("percent of weights remaining")
    ax.set_ylabel("step")
    ax.set_title("(b) early stopping (solid, bands +- 1 s.e.) and convergence (dashed)")
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    mv = s["movement"]
    layers = np.arange(len(mv["kept"]))
    ax.bar(layers - 0.2, mv["kept"], 0.4, yerr=mv["kept_se"], color="tab:blue",
           label="kept by the ticket")  # fmt: skip
    ax.bar(layers + 0.2, mv["pruned"], 0.4, yerr=mv["pruned_se"], color="tab:gray",
           label="pruned")  # fmt: skip
    ax.set_xticks(layers, [f"layer {k + 1}" for k in layers])
    ax.set_ylabel("mean |theta_final - theta_0| (dense training)")
    ax.set_title(f"(c) weight movement, mask at {100 * mv['density']:.3g}% "
                 f"(ratio {q.get('movement_ratio', float('nan')):.3g})")  # fmt: skip
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    alpha = np.asarray(s["interpolation"]["alpha"])
    error = np.asarray(s["interpolation"]["error"])
    rounds = sorted({0, q["match_round"], *q["beats_band_rounds"][:1], len(pct) - 1})
    cmap = plt.get_cmap("viridis")
    for j, r in enumerate(rounds):
        label = "dense" if r == 0 else f"ticket {pct[r]:.3g}%"
        ax.plot(alpha, 100 * error[r], "o-", ms=2.5, color=cmap(j / max(1, len(rounds) - 1)),
                label=f"{label} (barrier {100 * s['barrier'][r]:.2g}%)")  # fmt: skip
    ax.set_xlabel("alpha (W = alpha W1 + (1 - alpha) W2)")
    ax.set_ylabel("test error (%)")
    ax.set_title("(d) linear mode connectivity (same start, two data orders)")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    nets = (("ticket", s["kept"], f"base {q['sizes']}"),
            ("narrow", s["narrow_kept"], f"narrow {q['narrow_sizes']}"))  # fmt: skip
    for key, kept, label in nets:
        mean, se = np.asarray(s[f"acc_{key}"]), np.asarray(s[f"acc_{key}_se"])
        color = COLORS[key]
        ax.plot(kept, mean, "o-", ms=3, color=color, label=label)
        ax.fill_between(kept, mean - se, mean + se, color=color, alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("remaining weights")
    ax.set_ylabel("ticket test accuracy")
    ax.set_title("(e) larger networks, better tickets (bands: +- 1 s.e.)")
    ax.legend(fontsize=8)

    ax = axes[1, 2]
    tr = s["transfer"]
    x = np.arange(len(tr["rounds"]))
    bars = (("data_ticket", "shifted data: ticket", "tab:blue", -0.3),
            ("data_random", "shifted data: random mask", "tab:green", -0.1),
            ("optimizer_ticket", "other optimiser: ticket", "tab:cyan", 0.1),
            ("optimizer_random", "other optimiser: random mask", "tab:olive", 0.3))  # fmt: skip
    for key, label, color, shift in bars:
        ax.bar(x + shift, tr[key], 0.2, color=color, label=label)
    if "data_dense" in tr:
        ax.axhline(tr["data_dense"], color="black", linestyle=":", linewidth=1,
                   label="dense on shifted data")  # fmt: skip
    ax.set_xticks(x, [f"{100 * d:.3g}%" for d in tr["density"]])
    ax.set_xlabel("percent of weights remaining")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("(f) transfer (Morcos et al. 2019)")
    ax.legend(fontsize=8, loc="lower left")

    fig.suptitle(f"lottery_ticket (Frankle & Carbin 2019; Frankle et al. 2020), seed "
                 f"{report.seed}; verdict: {report.verdict}")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
