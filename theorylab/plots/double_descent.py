"""Figure for double_descent: the classical-vs-modern regime and deep double descent, measured.

Panels: (a) model-wise risk vs gamma = p/n: measured points with 2-SE error bars, the exact
finite-n curve and Hastie et al.'s asymptotic curve (log y); (b) ridge risk vs lambda at the
ridge gammas, measured and Hastie's formula, lambda* marked; (c) sample-wise risk vs n at
d = 100, ridgeless (measured, exact) and optimally tuned ridge (measured, asymptotic);
(d) weak features (BHX): measured and exact test error vs p; (e) random ReLU features: test
error vs N/n with the Mei-Montanari curve (small ridge) and the measured ridgeless medians;
(f) interpolation threshold on digits: median test error vs N/n with training error;
(g) trained two-layer nets: test and training error vs width, with and without label noise.

Drawn from the Report alone (series and quantities; the exact and asymptotic curves of panel
(a) are re-evaluated from the theory modules at the reference values the report records).
A panel whose series the report lacks says so instead of failing.
"""

from __future__ import annotations

import numpy as np

from ..report import Report
from ..theory import hastie2019, wishart


def _model_wise(ax, report: Report) -> None:
    s, q = report.series, report.quantities
    n, r2, s2 = q["n"], q["r2_reference"], q["s2_reference"]
    gamma = np.asarray(s["gamma"])
    fine = np.concatenate([np.linspace(gamma.min(), 1 - 1.5 / n, 200),
                           np.linspace(1 + 1.5 / n, gamma.max(), 200)])  # fmt: skip
    exact = [wishart.risk(n, int(round(g * n)), r2, s2) for g in fine]
    asym = [hastie2019.ridgeless_risk(g, r2, s2) for g in fine]
    ax.plot(fine, exact, color="C0", label=f"exact finite n = {n} (Wishart)")
    ax.plot(fine, asym, color="C1", ls="--", label="asymptotic (Hastie et al.)")
    ax.errorbar(gamma, s["risk_measured"], yerr=2 * np.asarray(s["risk_se"]), fmt="o",
                color="black", ms=4, capsize=2, label="measured (mean +- 2 SE)")  # fmt: skip
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("gamma = p / n")
    ax.set_ylabel("risk ||beta_hat - beta||^2")
    ax.set_title("(a) min-norm least squares: model-wise")
    ax.legend(fontsize=7)


def _ridge(ax, report: Report) -> None:
    q = report.quantities
    for j, (gamma, c) in enumerate(sorted(report.series.get("ridge", {}).items())):
        color = f"C{j}"
        ax.plot(c["lambda_fine"], c["risk_hastie_fine"], color=color,
                label=f"Hastie, gamma = {gamma}")  # fmt: skip
        ax.plot(c["lambda_fine"], c["risk_fine"], color=color, ls=":", lw=1)
        ax.errorbar(c["lambda"], c["risk_measured"], yerr=2 * np.asarray(c["risk_se"]), fmt="o",
                    color=color, ms=4, capsize=2)  # fmt: skip
        lam_star = q.get(f"lambda_opt_theory_gamma_{gamma}")
        if lam_star is not None and np.isfinite(lam_star):
            ax.axvline(lam_star, color=color, lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("lambda (n lambda convention)")
    ax.set_ylabel("risk")
    ax.set_title("(b) ridge; dashed: lambda* = s2 gamma / r2")
    ax.legend(fontsize=7)


def _sample_wise(ax, report: Report) -> None:
    s = report.series["samplewise"]
    n = np.asarray(s["n"])
    ax.errorbar(n, np.asarray(s["ridgeless_measured"], dtype=float),
                yerr=2 * np.asarray(s["ridgeless_se"], dtype=float), fmt="o",
                color="black", ms=4, capsize=2, label="ridgeless, measured")  # fmt: skip
    exact = np.asarray(s["ridgeless_exact"], dtype=float)
    finite = np.isfinite(exact)
    ax.plot(n[finite & (n < s["d"])], exact[finite & (n < s["d"])], color="C0",
            label="ridgeless, exact")  # fmt: skip
    ax.plot(n[finite & (n > s["d"])], exact[finite & (n > s["d"])], color="C0")
    ax.plot(n, s["optimal_measured"], "s", color="C2", ms=4, label="optimal ridge, measured")
    optimal_asym = np.asarray(s["optimal_asymptotic"], dtype=float)  # "nan" from JSON if r2 = 0
    ax.plot(n, optimal_asym, color="C2", ls="--", label="optimal ridge, Hastie")
    ax.axvline(s["d"], color="gray", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel(f"samples n (d = {s['d']})")
    ax.set_ylabel("risk")
    ax.set_title("(c) sample-wise: more data can hurt")
    ax.legend(fontsize=7)


def _weak(ax, report: Report) -> None:
    s = report.series["weak_features"]
    ax.errorbar(s["p"], s["error_measured"], yerr=2 * np.asarray(s["error_se"]), fmt="o",
                color="black", ms=4, capsize=2, label="measured")  # fmt: skip
    ax.plot(s["p"], s["error_exact"], "x-", color="C3", label="BHX Thm 1")
    ax.axvline(s["n"], color="gray", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel(f"features seen p (of D = {s['D']}), n = {s['n']}")
    ax.set_ylabel("test error (noise included)")
    ax.set_title("(d) weak features")
    ax.legend(fontsize=7)


def _random_features(ax, report: Report) -> None:
    s = report.series["random_features"]
    n, d = s["n"], s["d"]
    ax.plot(np.asarray(s["psi1_fine"]) * d / n, s["predicted_fine"], color="C4",
            label=f"Mei-Montanari, lambda = {s['lambda']:g}")  # fmt: skip
    ratio = np.asarray(s["N"]) / n
    ax.errorbar(ratio, s["error_measured"], yerr=2 * np.asarray(s["error_se"]), fmt="o",
                color="black", ms=4, capsize=2, label="measured, same lambda")  # fmt: skip
    ax.plot(ratio, s["ridgeless_median"], "v", color="C5", ms=4, label="measured ridgeless")
    ridgeless = np.asarray(s["ridgeless_predicted"], dtype=float)  # JSON writes inf as "inf"
    shown = np.isfinite(ridgeless)
    ax.plot(ratio[shown], ridgeless[shown], ":", color="C5", label="Mei-Montanari ridgeless")
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel(f"N / n (d = {d}, n = {n})")
    ax.set_ylabel("test error")
    ax.set_title("(e) random ReLU features")
    ax.legend(fontsize=7)


def _threshold(ax, report: Report) -> None:
    s = report.series["interpolation_threshold"]
    ratio = np.asarray(s["N"]) / s["n"]
    ax.plot(ratio, s["test_median"], "o-", color="C0", label="test (median over draws)")
    train = np.maximum(np.asarray(s["train_max"], dtype=float), 1e-30)
    ax.plot(ratio, train, "s--", color="C1", label="train (max over draws)")
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"N / n (digits, n = {s['n']}, 10 classes)")
    ax.set_ylabel("squared loss to one-hot")
    ax.set_title("(f) interpolation threshold")
    ax.legend(fontsize=7)


def _trained(ax, report: Report) -> None:
    s = report.series.get("trained_net")
    if s is None:
        ax.text(0.5, 0.5, "trained net not run\n(--no-trained-net)", ha="center", va="center")
        ax.set_axis_off()
        return
    w = s["width"]
    ax.plot(w, s["test_noisy"], "o-", color="C3", label=f"test, label noise {s['label_noise']}")
    ax.plot(w, s["train_noisy"], "o:", color="C3", label="train, label noise")
    ax.plot(w, s["test_clean"], "s-", color="C0", label="test, clean labels")
    ax.plot(w, s["train_clean"], "s:", color="C0", label="train, clean labels")
    ax.set_xscale("log")
    ax.set_xlabel("hidden width")
    ax.set_ylabel("mean squared error (+-1 targets)")
    ax.set_title(f"(g) trained 2-layer nets (median of {s['inits']}; qualitative)")
    ax.legend(fontsize=7)


def _missing(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"{what}: not in this report", ha="center", va="center")
    ax.set_axis_off()


# panel -> the series key it draws
_PANELS = (
    ("_model_wise", "risk_measured"), ("_ridge", "ridge"), ("_sample_wise", "samplewise"),
    ("_weak", "weak_features"), ("_random_features", "random_features"),
    ("_threshold", "interpolation_threshold"), ("_trained", None),
)  # fmt: skip


def plot(report: Report, path: str) -> None:
    """The seven panels and the statement list, written to ``path`` (any matplotlib format)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(22, 9))
    for ax, (name, key) in zip(axes.flat, _PANELS, strict=False):
        if key is not None and key not in report.series:
            _missing(ax, key)
            continue
        globals()[name](ax, report)
    ax = axes.flat[-1]
    ax.set_axis_off()
    lines = [f"{s.name}: {'holds' if s.holds else s.holds}" for s in report.statements]
    ax.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=8)
    q = report.quantities
    fig.suptitle(
        f"double_descent: r2 = {q.get('r2')}, s2 = {q.get('s2')} (references r2 = "
        f"{q.get('r2_reference')}, s2 = {q.get('s2_reference')}), seed {report.seed}; "
        f"verdict: {report.verdict}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


draw = plot  # the name older callers use
