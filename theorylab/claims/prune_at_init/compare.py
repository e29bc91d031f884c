"""prune_at_init comparisons: pure functions of a :class:`.simulate.Measurement`.

Every ordering is a paired comparison over seeds (same data order, same frozen weights or the
same initialisation on both sides) with a one-sided 95% Student-t lower bound on the mean
difference; "A beats B" means that lower bound is above ``MIN_EFFECT``. The statement's
measured value is the lower bound itself and its interval is [MIN_EFFECT, 1], so the slack
reads as the margin by which the whole interval clears the declared minimum effect, in
accuracy units.
"""

from __future__ import annotations

import numpy as np

from ...registry import Comparison
from ...report import Hypothesis, Statement
from ...sparse import stats

CONFIDENCE = 0.95
# "A beats B" needs the lower bound above half an accuracy point: on digits' 359 test images
# one image is 0.28 points, so a win by under two images is not called a win (declared before
# any run; it also keeps exact ties from counting as wins).
MIN_EFFECT = 0.005
# "Far above chance": the 99% upper binomial limit of the accuracy of a guess among C classes
# on the test set. Declared before any run; it depends on the test-set size only.
CHANCE_QUANTILE = 0.995


def chance_upper(test_size: int, classes: int) -> float:
    """Upper end of the central 99% binomial interval of chance accuracy 1/C on n examples.

    Digits' test split (359 images, 10 classes):

    >>> round(chance_upper(359, 10), 4)
    0.1421
    """
    from scipy.stats import binom

    return float(binom.ppf(CHANCE_QUANTILE, test_size, 1.0 / classes)) / test_size


def beats(name: str, text: str, a, b, what: str) -> Statement:
    d = stats.paired(a, b, CONFIDENCE)
    return Statement.within(name, text, d.lower, (MIN_EFFECT, 1.0),
                           detail=f"{what}: {d.text(' pts', 100)}")  # fmt: skip


def compare(m, p) -> Comparison:
    ks, widths = m.k, m.widths
    peak = ks.index(p.peak_k)
    wide = m.ep_acc[-1]  # (k, seeds) at the widest width
    chance = chance_upper(m.test_size, m.classes)
    at_peak = stats.mean_bounds(wide[peak], CONFIDENCE)
    statements = [
        Statement.at_least(
            "edge_popup_above_chance",
            f"edge-popup subnetwork of the frozen random net (k = {p.peak_k}, width "
            f"{widths[-1]}) classifies far above chance (Ramanujan et al. 2020)",
            at_peak.lower,
            chance,
            strict=True,
            detail=f"test accuracy {at_peak.text(' pts', 100)}; reference: the 99% binomial "
            f"upper limit of chance 1/{m.classes} on {m.test_size} test examples",
        ),  # fmt: skip
    ]
    low = beats("edge_popup_peak_vs_small_k", "", wide[peak], wide[0], "")
    high = beats("edge_popup_peak_vs_large_k", "", wide[peak], wide[-1], "")
    worst = min(low.measured, high.measured)
    statements.append(
        Statement.within(
            "edge_popup_interior_peak",
            f"edge-popup accuracy at k = {p.peak_k} beats both ends k = {ks[0]} and "
            f"k = {ks[-1]}: non-monotone in k (Ramanujan et al. 2020, Fig. 3)",
            worst,
            (MIN_EFFECT, 1.0),
            detail=f"vs k={ks[0]}: {stats.paired(wide[peak], wide[0]).text(' pts', 100)}; "
            f"vs k={ks[-1]}: {stats.paired(wide[peak], wide[-1]).text(' pts', 100)}",
        )  # fmt: skip
    )
    statements.append(
        beats(
            "wider_random_net_better",
            f"at k = {p.peak_k} the subnetwork of the width-{widths[-1]} random net beats that "
            f"of the width-{widths[0]} one (Ramanujan et al. 2020, Fig. 4)",
            m.ep_acc[-1, peak],
            m.ep_acc[0, peak],
            "wide - narrow",
        )  # fmt: skip
    )
    top = len(m.sparsity) - 1
    for method, paper in (("snip", "Lee et al. 2019"), ("grasp", "Wang et al. 2020")):
        others = "; ".join(
            f"{s:.0%}: {stats.paired(m.acc[method][i], m.acc['random'][i]).text(' pts', 100)}"
            for i, s in enumerate(m.sparsity[:-1])
        )
        st = beats(
            f"{method}_beats_random",
            f"{method.upper()} pruning at initialisation beats random pruning at "
            f"{m.sparsity[top]:.0%} sparsity after training ({paper})",
            m.acc[method][top],
            m.acc["random"][top],
            f"{method} - random",
        )
        if others:
            st.detail += f"; reported, not asserted, at lower sparsity {others}"
        statements.append(st)
    hypotheses = [
        Hypothesis(
            "no_layer_collapse",
            "no pruned network lost a whole layer (Tanaka et al. 2020)",
            met=not any(c.any() for c in m.collapsed.values()),
            detail=", ".join(
                f"{meth}: {int(c.sum())} of {c.size}" for meth, c in m.collapsed.items()
            )
            + " networks with a collapsed layer",
        )  # fmt: skip
    ]
    series = {"k": list(ks), "widths": list(widths), "sparsity": list(m.sparsity),
              "methods": list(m.acc), "chance_upper": chance}  # fmt: skip
    mean, se = stats.mean_se(m.ep_acc, axis=2)
    series["ep_acc_mean"], series["ep_acc_se"] = mean.tolist(), se.tolist()
    for method, values in m.acc.items():
        mean, se = stats.mean_se(values, axis=1)
        series[f"{method}_acc_mean"], series[f"{method}_acc_se"] = mean.tolist(), se.tolist()
        series[f"{method}_collapsed"] = m.collapsed[method].sum(axis=1).tolist()
    quantities = {
        "edge_popup_peak_acc": float(np.mean(wide[peak])),
        "chance_upper": chance,
        **{
            f"{meth}_acc_at_{m.sparsity[top]:g}": float(np.mean(m.acc[meth][top])) for meth in m.acc
        },  # fmt: skip
    }
    return Comparison(statements, hypotheses, quantities, series)
