"""supermask comparisons: pure functions of a :class:`.simulate.Measurement`.

Every ordering is a paired comparison over seeds (seed s: one w_i, one w_f, one data order,
shared by every mask and variant of that seed) with a one-sided 95% Student-t bound on the
mean difference (:func:`theorylab.sparse.stats.paired`). "A beats B" means the lower bound of
A - B is above MIN_EFFECT; it is asserted at the sparsest density of the grid (which
validation keeps <= 20%) and the other densities <= 20% are reported in the detail with their
intervals. "A is on par with B within a margin" means the lower bound of A - B is above
-margin at every density (a one-sided equivalence test: A may be better); the statement
measures the worst lower bound, so its slack is the distance by which every interval clears
the edge, in accuracy units.

Zeros against frozen (Zhou et al. 2019, Sec. 3) is reported, not asserted: the pilot runs
(below) went the other way at this scale, see docs/claims/supermask.md.
"""

from __future__ import annotations

import numpy as np

from ...registry import Comparison
from ...report import Statement
from ...sparse import stats
from ..prune_at_init import compare as prune_at_init_compare
from .simulate import TABLE_ROWS, VARIANTS

CONFIDENCE = 0.95
# Margins. Seed 0 (the tested seed) never informed them; where stated, they come from pilot
# runs at run seeds 101-103 (never tested; default settings, 4-8 seeds each).
# - MIN_EFFECT: "A beats B" needs the lower bound above half an accuracy point, under two of
#   digits' 359 test images (each is 0.28 points), so exact ties never count as wins.
MIN_EFFECT = 0.005
# - EQUIVALENCE_MARGIN: "magnitude_increase works just as well as large_final" (Zhou et al.
#   2019, Fig. 3). Four points. At the sparsest default density (2%) the ticket's own accuracy
#   varies by several points between seeds, and in the pilots the paired differences had a
#   standard deviation of ~3.8 points, so with 8 seeds the one-sided bound of an exact tie sits
#   ~2.5 points below zero: a two-point margin (the paper's ~1-point spread plus one test-set
#   standard error) could not be met even by identical criteria. Four points is under a sixth
#   of what separates large_final from random (27 points) and small_final (32) there.
EQUIVALENCE_MARGIN = 0.04
# - SIGN_MARGIN: "signs are all you need" (Zhou et al. Sec. 4, Fig. 5); the same four points
#   for the same reason (random signs cost 13 points at 2% in the pilots).
SIGN_MARGIN = 0.04
# - LEARNED_MASK_MARGIN: the table's learned mask * init (95.3) is 2.4 points below trained
#   weights (97.7) on MNIST; twice that gap, for digits' 359-image test set and a Bernoulli
#   mask trained for a few hundred steps instead of the paper's epochs (declared before the
#   pilots).
LEARNED_MASK_MARGIN = 0.05


def chance_upper(test_size: int, classes: int) -> float:
    """The 99% binomial upper limit of chance accuracy, as in prune_at_init."""
    return prune_at_init_compare.chance_upper(test_size, classes)


def _pct(d: stats.Paired) -> str:
    return d.text(" pts", 100)


def beats(name: str, text: str, rows: list[tuple[str, np.ndarray, np.ndarray]]) -> Statement:
    """A beats B (lower bound > MIN_EFFECT) at every (label, a, b) of ``rows``."""
    pairs = [(label, stats.paired(a, b, CONFIDENCE)) for label, a, b in rows]
    worst = min(d.lower for _, d in pairs)
    detail = "; ".join(f"{label}: {_pct(d)}" for label, d in pairs)
    return Statement.within(name, text, worst, (MIN_EFFECT, 1.0), detail=detail)


def on_par(name: str, text: str, rows, margin: float) -> Statement:
    """A - B has its lower bound above -margin at every (label, a, b) of ``rows``."""
    pairs = [(label, stats.paired(a, b, CONFIDENCE)) for label, a, b in rows]
    worst = min(d.lower for _, d in pairs)
    detail = "; ".join(f"{label}: {_pct(d)}" for label, d in pairs)
    return Statement.within(name, text, worst, (-margin, 1.0), power="interval", detail=detail)


def _pairs(rows):
    return [(label, stats.paired(a, b, CONFIDENCE)) for label, a, b in rows]


def _details(pairs) -> str:
    return "; ".join(f"{label}: {_pct(d)}" for label, d in pairs)


def beats_sparsest(name: str, text: str, a, b, dens, low) -> Statement:
    """A beats B at the sparsest density (index 0); the other densities in ``low`` are
    reported in the detail."""
    st = beats(name, text, [(f"d={dens[0]:g}", a[0], b[0])])
    others = [(f"d={dens[i]:g}", a[i], b[i]) for i in low if i != 0]
    if others:
        st.detail += "; reported, not asserted: " + _details(_pairs(others))
    return st


def compare(m, p) -> Comparison:
    from . import LOW_DENSITY

    dens = m.density  # increasing: index 0 is the sparsest
    low = [i for i, d in enumerate(dens) if d <= LOW_DENSITY]
    lf = m.acc["large_final"]
    v = m.variant_acc

    def rows(a, b):
        return [(f"d={d:g}", a[i], b[i]) for i, d in enumerate(dens)]

    at = f"at hidden density {dens[0]:g}"
    statements = [
        on_par("magnitude_increase_on_par",
               f"magnitude_increase |w_f| - |w_i| masks retrain as well as large_final |w_f| "
               f"(within {EQUIVALENCE_MARGIN:.0%}) at every density (Zhou et al. 2019, Fig. 3)",
               rows(m.acc["magnitude_increase"], lf), EQUIVALENCE_MARGIN),
        beats_sparsest("random_is_worst",
                       f"large_final masks beat random masks (same per-layer counts) {at} "
                       "(Frankle & Carbin 2019; Zhou et al. 2019, Fig. 3)",
                       lf, m.acc["random"], dens, low),
        beats_sparsest("small_final_fails",
                       f"large_final masks beat small_final masks {at} (Zhou et al. 2019, "
                       "Fig. 3)", lf, m.acc["small_final"], dens, low),
        on_par("signs_suffice",
               f"kept weights re-drawn with the signs of w_i retrain as well as the ticket "
               f"(within {SIGN_MARGIN:.0%}) at every density (Zhou et al. 2019, Sec. 4)",
               rows(v["signs_kept"], lf), SIGN_MARGIN),
        beats_sparsest("random_signs_worse",
                       f"the ticket beats its kept weights re-drawn with random signs {at} "
                       "(Zhou et al. 2019, Sec. 4; Frankle & Carbin 2019)",
                       lf, v["random_signs"], dens, low),
        beats_sparsest("criterion_uses_its_network",
                       f"large_final scores from the network's own w_f beat those from another "
                       f"seed's w_f (both applied to this seed's w_i) {at}",
                       lf, v["foreign"], dens, low),
    ]  # fmt: skip
    t = m.table
    chance = chance_upper(m.test_size, m.classes)
    sm = stats.mean_bounds(t["mask_init"], CONFIDENCE)
    at = f"at hidden density {m.supermask_density:g}"
    statements.append(
        Statement.at_least(
            "supermask_above_chance",
            f"the untrained large_final_same_sign mask on w_i ({at}) classifies far above "
            "chance (Zhou et al. 2019, Sec. 5)",
            sm.lower,
            chance,
            strict=True,
            detail=f"mask * init test accuracy {_pct(sm)}; reference: the 99% binomial upper "
            f"limit of chance 1/{m.classes} on {m.test_size} test examples",
        )  # fmt: skip
    )
    statements.append(
        beats(
            "signed_constant_above_init",
            f"untrained, mask * signed constant beats mask * init ({at}; Zhou et al. 2019, "
            "Table 1: 86.3 vs 79.3 on MNIST FC)",
            [("sc - init", t["mask_signed_constant"], t["mask_init"])],
        )  # fmt: skip
    )
    near = on_par(
        "learned_mask_near_trained",
        f"a Bernoulli mask learned on frozen w_i is within {LEARNED_MASK_MARGIN:.0%} of the "
        "trained dense weights (Zhou et al. 2019, Table 1: 95.3 vs 97.7 on MNIST FC)",
        [("learned - trained", t["learned_init"], t["trained"])],
        LEARNED_MASK_MARGIN,
    )
    reported = [
        ("learned mask * init - mask * signed constant", t["learned_init"],
         t["mask_signed_constant"]),
        ("learned mask * signed constant - learned mask * init", t["learned_signed_constant"],
         t["learned_init"]),
    ]  # fmt: skip
    near.detail += "; reported, not asserted: " + "; ".join(
        f"{label}: {_pct(stats.paired(a, b, CONFIDENCE))}" for label, a, b in reported
    )
    statements.append(near)

    series = {"density": list(dens), "layer_density": [list(x) for x in m.layer_density],
              "criteria": list(m.criteria), "variants": list(VARIANTS),
              "table_rows": list(TABLE_ROWS), "supermask_density": m.supermask_density,
              "chance_upper": chance}  # fmt: skip
    for key, source in (("acc", m.acc), ("variant", m.variant_acc),
                        ("supermask", m.supermask_curve)):  # fmt: skip
        means, ses = {}, {}
        for name, values in source.items():
            mean, se = stats.mean_se(values, axis=1)
            means[name], ses[name] = mean.tolist(), se.tolist()
        series[f"{key}_mean"], series[f"{key}_se"] = means, ses
    bounds = {r: stats.mean_bounds(t[r], CONFIDENCE) for r in TABLE_ROWS}
    series["table_mean"] = {r: b.mean for r, b in bounds.items()}
    series["table_lower"] = {r: b.lower2 for r, b in bounds.items()}
    series["table_upper"] = {r: b.upper2 for r, b in bounds.items()}
    series["table_values"] = {r: np.asarray(t[r]).tolist() for r in TABLE_ROWS}
    zeros = _pairs(rows(lf, v["frozen"]))
    quantities = {
        **{f"zeros_minus_frozen_at_{label[2:]}": d.mean for label, d in zeros},
        **{f"zeros_minus_frozen_lower_at_{label[2:]}": d.lower for label, d in zeros},
        **{f"table_{r}": b.mean for r, b in bounds.items()},
        **{f"learned_density_{k}": float(np.mean(x)) for k, x in m.learned_density.items()},
        "chance_upper": chance,
        **{f"acc_{c}_at_{dens[0]:g}": float(np.mean(m.acc[c][0])) for c in m.acc},
        **{f"{name}_at_{dens[0]:g}": float(np.mean(v[name][0])) for name in VARIANTS},
    }
    return Comparison(statements, [], quantities, series)
