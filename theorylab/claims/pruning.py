"""pruning: a random depth-2L ReLU network contains a subnetwork approximating any depth-L target.

Statement (Malach, Yehudai, Shalev-Shwartz, Shamir, ICML 2020, Thm 2.1; Pensia, Rajput, Nagle,
Vishwakarma, Papailiopoulos, NeurIPS 2020, Thm 1): for a depth-L ReLU target f with bounded
weights (here ||W_i||_2 <= 1) and inputs in the unit ball, a random network of depth 2L with
i.i.d. U[-1, 1] weights contains, w.h.p., a weight-subnetwork f_hat (a mask, weights untouched)
with sup_{||x||<=1} |f_hat(x) - f(x)| <= eps. Malach et al. realise each target weight by one
product of two random weights, which needs width polynomial in 1/eps; Pensia et al. use subset
sums of products (Lueker 1998), which need a width factor O(log(d L / eps)) only.

Setting: a random target of depth L = ``depth`` (input ``input_dim``, hidden ``target_width``,
one output, no biases); the random network of depth 2L has ``candidates`` intermediate neurons
per target input coordinate (:mod:`theorylab.pruning.two_hop`). The per-weight tolerance e is
the root of the explicit uniform propagation bound = eps (:mod:`theorylab.pruning.propagation`;
TWO_LAYER_TOLERANCE of :mod:`theorylab.theory.pensia2020` for L = 2); each target weight's
gadget is chosen by subset sum (``construction=subset_sum``) or by a single product
(``single_product``), each time the closest one, so the sup error is often far below eps (the
slack shows it). No loss is trained: the error is the sup-norm |f_hat - f|. The two ladders
draw their candidates U[-1, 1] whatever ``distribution`` the pruned network uses.

Measurement (:mod:`theorylab.pruning.experiment`) and comparison (:func:`compare`): the sup
error of the pruned network against eps and against the propagation bound with the achieved
per-weight errors (sanity bounds: the pruned network is far from the worst case the bound
covers); every gadget's sup error on a grid against Pensia et al.'s case-split formula
(exact); the exact worst case over all networks the propagation lemma admits against the
lemma (<= 1, and attained within a factor 2 at an input with every hidden unit active, depth
<= 2); the depth of the pruned network; the candidates per weight needed for a success rate q
over a ladder of eps for both constructions (logarithmic slope and the counting floor for
subset sums; power law and the exact closed-form level for single products,
:mod:`theorylab.theory.malach2020`); the width factor needed against the target size d L.
docs/claims/pruning.md lists the statements with their power labels and the mutants.

Negative control: too few candidates for eps (``--candidates 4``): some gadget cannot get
within e, the sup error exceeds eps, the verdict is "violated". ``construction=single_product``
at the default candidates is a second one (it needs ~1/e candidates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import Inconclusive, UsageError
from ..pruning import CHUNK_ELEMENTS, DISTRIBUTIONS, EXHAUSTIVE_LIMIT, LADDER_WEIGHT_MAX
from ..registry import Claim, Comparison, Mutant, param
from ..report import Hypothesis, Statement
from ..stats import fit_power_law

CONSTRUCTIONS = ("subset_sum", "single_product")
SEARCHES = ("auto", "meet_in_the_middle", "milp")
LADDER_TOP_EPS = 0.1
SIZE_LADDER_START = 2
# Subset-sum slope (candidates per halving of eps, both sign pools together) interval. Counting
# bound: a pool of m candidates has 2^m subset sums, which must put one within e of w, so each
# pool needs ~log2(1/e) + O(log m) members and the total grows by ~2 per halving (asymptotic
# slope 2); at the ladder's larger e, the fluctuation of the pool sizes (binomial split of the
# candidates by sign) adds an e-independent overhead that flattens the fit. Measured 1.77-2.14
# over seeds 0-4 at 1000 trials; [1, 3] leaves room for quantile noise (+-1 candidate per rung
# moves the slope by ~0.3) while a power law (single product: ~2x per halving) is far outside.
LOG_SLOPE_INTERVAL = (1.0, 3.0)
# Single-product exponent: the fit of the closed-form prediction over the same ladder is the
# reference; +-0.1 covers the quantile noise at >= 500 trials (relative error of each n_q ~4%,
# over a ladder spanning log(32) = 3.5, the slope error is ~0.02) with a 5x margin.
POWER_EXPONENT_HALF_WIDTH = 0.1
# Pointwise agreement of the measured single-product n_q with the closed form: |log ratio|.
# The q-quantile of T trials has relative standard error ~ sqrt(q(1-q)/T) / (q-density slope),
# ~4% at T = 1000 and ~6% at T = 400; 0.25 is > 4 standard errors at T = 400.
PREDICTION_LOG_TOLERANCE = 0.25
# The level of the whole single-product curve: the mean over rungs of log(measured/closed
# form), against its Monte-Carlo standard error (delta method for the quantile of T trials,
# malach2020.quantile_relative_stderr, ~4% per rung at T = 1000). 4 standard errors (a normal
# two-sided tail of 6e-5); a density 2x off in the tails moves the mean by ~0.16 (z ~ -9).
LEVEL_Z = 4.0
# Width vs target size: the fitted power-law exponent of the width factor against d L. A
# logarithmic law a + b log2(dL) with a > b has local exponent b / (ln2 (a + b log2 dL)) ~ 0.1-0.2
# here; a polynomial-width construction (e ~ eps / d, width ~ 1/e) has exponent >= 1. 1/2 is
# the separating line (an ordering, not a fitted constant).
SIZE_EXPONENT_MAX = 0.5
# The exact worst case of the propagation lemma reaches at least half of it at an input with
# every hidden unit active (derived in theorylab/pruning/adversarial.py; measured 0.71-1.0
# over seeds 10-19 at e = 1, 0.98-1.0 at the per-weight tolerance).
ATTAINED_FRACTION = 0.5
ROUNDING = 1e-9  # float64 rounding allowed in the exact inequalities (100 ulp in float32)
# The brute-force gadget errors (sums of kept products evaluated through the network) and the
# branch sums A+, A- differ by the rounding of sums of <= 48 products of magnitude <= 1.
GADGET_ROUNDING = 1e-12


@dataclass(frozen=True)
class Params:
    eps: float = param(0.05, "target sup error over the unit ball, 0 < eps < 1",
                       minimum=0.0, maximum=1.0)  # fmt: skip
    depth: int = param(2, "depth L of the target (the pruned network has depth 2L)",
                       minimum=1, maximum=8)  # fmt: skip
    input_dim: int = param(4, "input dimension d of the target", minimum=1, maximum=256)
    target_width: int = param(4, "hidden width of the target", minimum=1, maximum=256)
    # 48: at 32, 13 of 30 seeds left some gadget above e (readout weights near 0.9 need several
    # same-sign products of one ~16-candidate pool); at 40, 4 of 30; at 48, none of 30.
    candidates: int = param(
        48, "candidate intermediate neurons per target weight (the width factor n)",
        minimum=1, maximum=10**5,
    )  # fmt: skip
    construction: str = param(
        "subset_sum", "subset_sum (Pensia et al.) or single_product (Malach et al.)",
        choices=CONSTRUCTIONS,
    )  # fmt: skip
    subset_search: str = param(
        "auto", f"auto (meet in the middle up to {EXHAUSTIVE_LIMIT} candidates per "
        "sign pool, milp beyond), meet_in_the_middle, or milp", choices=SEARCHES,
    )  # fmt: skip
    distribution: str = param("uniform", "random weights: uniform U[-1,1] (the theorems) or "
                              "normal N(0,1)", choices=DISTRIBUTIONS)  # fmt: skip
    test_points: int = param(20000, "random test points on the unit sphere for the sup error",
                             minimum=10, maximum=10**7)  # fmt: skip
    ascent_steps: int = param(200, "gradient-ascent refinement steps on |f_hat - f|",
                              minimum=0, maximum=10**5)  # fmt: skip
    scaling: bool = param(True, "run the eps ladder and the target-size ladder")
    ladder_rungs: int = param(6, "eps ladder 0.1, 0.05, ... (halving) with this many rungs",
                              minimum=3, maximum=10)  # fmt: skip
    ladder_trials: int = param(1000, "scalar trials per eps rung and construction",
                               minimum=20, maximum=10**6)  # fmt: skip
    success_rate: float = param(0.9, "success rate q defining the candidates needed",
                                minimum=0.5, maximum=0.99)  # fmt: skip
    size_rungs: int = param(4, "target sizes d = 2, 4, 8, ... (d = width, depth L)",
                            minimum=3, maximum=6)  # fmt: skip
    size_trials: int = param(40, "random targets per size", minimum=5, maximum=10**4)
    size_max_candidates: int = param(64, "candidates drawn per weight in the size ladder",
                                     minimum=8, maximum=512)  # fmt: skip

    @property
    def eps_ladder(self) -> list[float]:
        return [LADDER_TOP_EPS / 2**k for k in range(self.ladder_rungs)]

    @property
    def size_ladder(self) -> list[int]:
        return [SIZE_LADDER_START * 2**k for k in range(self.size_rungs)]

    def validate(self) -> None:
        if not 0 < self.eps < 1:
            raise UsageError(f"eps must be in (0, 1), got {self.eps}")

    def widths(self) -> list[int]:
        """Layer widths of the random network: d, d n, d_1, d_1 n, ..., 1."""
        dims = [self.input_dim] + [self.target_width] * (self.depth - 1) + [1]
        widths = [dims[0]]
        for i in range(len(dims) - 1):
            widths += [dims[i] * self.candidates, dims[i + 1]]
        return widths


def _mitm_bytes(rows: int, pool: int) -> float:
    half = pool - pool // 2
    per_row = 8 * 6 * 2 ** (half + 1)
    return per_row * min(rows, max(1, CHUNK_ELEMENTS // 2 ** (half + 1))) + per_row


def estimate_bytes(p: Params) -> float:
    """Weights and masks of the random network, the subset search, and the test-set chunks."""
    widths = p.widths()
    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    network = 8 * 4 * weights
    rows = max(a * b for a, b in zip(widths[2::2], widths[:-1:2], strict=True))
    search = 0.0
    if p.construction == "subset_sum" and p.subset_search != "milp":
        pool = p.candidates
        if p.subset_search == "auto":
            pool = min(pool, EXHAUSTIVE_LIMIT)
        search = _mitm_bytes(rows, pool)
    evaluation = 8 * 4 * 4096 * max(widths)
    ladder = 8 * 4 * CHUNK_ELEMENTS if p.scaling else 0
    return network + search + evaluation + ladder


def simulate(p: Params, ctx):
    """The measurements (:class:`theorylab.pruning.experiment.PruningMeasurement`)."""
    import torch

    from ..pruning import experiment

    m = experiment.measure(p, ctx)
    if not math.isfinite(m.sup_error):
        raise Inconclusive("the pruned network's output is not finite")
    m.rounding = max(ROUNDING, 100 * torch.finfo(ctx.torch_dtype).eps)
    return m


def compare(m, p: Params) -> Comparison:
    """Statements, hypotheses, quantities and series of one measurement (pure)."""
    out = Comparison(statements=[])
    q = out.quantities
    errors = m.layer_errors
    q.update(per_weight_tolerance=m.per_weight_tolerance, layer_gadget_errors=errors,
             target_weights=m.target.n_weights, target_operator_norms=m.operator_norms)  # fmt: skip
    out.hypotheses += setting_hypotheses(m, p)
    q.update(sup_error=m.sup_error, sup_error_test_set=m.sup_error_test_set)
    out.statements += error_statements(m, p, q)
    out.hypotheses.append(Hypothesis(
        "one_input_per_intermediate_neuron",
        "each kept intermediate neuron sees one input coordinate (pruned first layer of a pair)",
        m.first_layers_one_input, "checked on every pair's first-layer mask", required=True,
    ))  # fmt: skip
    q.update(kept_weights=m.kept_weights, total_weights=m.total_weights,
             keep_fraction=m.keep_fraction, network_widths=m.network_widths)  # fmt: skip
    out.statements.append(Statement.within(
        "depth_doubling", "the pruned network has depth (weight layers) exactly 2L",
        m.depth, (2 * p.depth, 2 * p.depth),
        detail=f"kept {m.kept_weights} of {m.total_weights} weights "
        f"(keep_fraction {m.keep_fraction:.4g}); widths {m.network_widths}", power="exact",
    ))  # fmt: skip
    out.series["slice"] = m.slice
    out.series["error_vs_candidates"] = m.error_curves
    if m.eps_ladder is not None:
        out.statements += eps_ladder_comparison(m.eps_ladder, p, out)
    if m.size_ladder is not None:
        ladder = m.size_ladder
        out.statements.append(size_statement(ladder["d"], p.depth, ladder["needed"],
                                             ladder["per_weight_tolerance"], out))  # fmt: skip
    return out


def setting_hypotheses(m, p: Params) -> list[Hypothesis]:
    failing = sum(int((e > m.per_weight_tolerance).sum()) for e in m.gadget_errors)
    return [
        Hypothesis(
            "bounded_target", "||W_i||_2 <= 1 for every target layer, inputs in the unit ball",
            max(m.operator_norms) <= 1 + m.rounding,
            f"max operator norm {max(m.operator_norms):.6g}", required=True,
        ),
        Hypothesis(
            "uniform_random_weights",
            "random weights i.i.d. U[-1, 1] (Malach et al.; Pensia et al.)",
            p.distribution == "uniform", f"distribution = {p.distribution}",
        ),
        Hypothesis(
            "every_gadget_within_tolerance",
            "every target weight's gadget within the per-weight tolerance e (uniform bound = eps)",
            failing == 0,
            f"{failing} of {m.target.n_weights} weights above e = {m.per_weight_tolerance:.4g} "
            f"with {p.candidates} candidates ({p.construction})",
        ),
    ]  # fmt: skip


def error_statements(m, p: Params, q: dict) -> list[Statement]:
    """The sup error against eps and the propagation lemma; the gadgets against Pensia et
    al.'s case split; the lemma against its own exact worst case."""
    from ..pruning import propagation

    errors = m.layer_errors
    uniform = propagation.uniform_bound(m.target, errors)
    q["propagation_bound_uniform"] = uniform
    bounds = propagation.pointwise_bound(m.target, errors, m.points)
    ratio = float((m.point_errors / bounds.clamp_min(1e-300)).max())
    return [
        Statement.at_most(
            "sup_error_bound",
            "sup_{||x||<=1} |f_hat(x) - f(x)| <= eps (Malach et al. Thm 2.1; Pensia et al. Thm 1)",
            m.sup_error, p.eps,
            detail=f"test set {p.test_points} points on the sphere (max "
            f"{m.sup_error_test_set:.4g}), refined by {p.ascent_steps} ascent steps; "
            f"propagation bound {uniform:.4g}",
        ),
        Statement.at_most(
            "error_propagation_bound",
            "sup error <= sup_ball of delta_L with the achieved per-weight errors "
            "(e(||z||_1+||delta||_1)+|W|delta per pair; L=2: e(||c||_1||x||_1+||h||_1)+e^2 "
            "d1||x||_1)",
            m.sup_error, uniform * (1 + m.rounding),
            detail="per-layer gadget errors " + ", ".join(f"{e:.3g}" for e in errors),
        ),
        Statement.at_most(
            "propagation_pointwise",
            "max_x |f_hat(x) - f(x)| / delta_L(x) <= 1 (the bound at each x, exact to second "
            "order)",
            ratio, 1 + m.rounding,
            detail=f"{m.points.shape[0]} points incl. the sup-error maximiser",
        ),
        gadget_statement(m, q),
        *worst_case_statements(m, q),
    ]  # fmt: skip


def gadget_statement(m, q: dict) -> Statement:
    """Pensia et al. Lemma 1's case split: sup_{|x|<=1} |g_S(x) - w x| = max(|A+ - w|,
    |A- - w|), against the gadgets evaluated through the network on a grid of [-1, 1]."""
    from ..theory import pensia2020

    gaps = []
    for W, plus, minus, grid in zip(m.target.weights, m.sums_plus, m.sums_minus,
                                    m.gadget_grid_errors, strict=True):  # fmt: skip
        formula = pensia2020.gadget_sup_error(plus, minus, W, 1.0)
        gaps.append(float((formula - grid).abs().max()))
    q["gadget_formula_gaps"] = gaps
    return Statement.at_most(
        "gadget_sup_error_identity",
        "max over gadgets |max_{x in grid of [-1,1]} |g_S(x) - w x| - max(|A+ - w|, |A- - w|)| "
        f"<= {GADGET_ROUNDING:g} (Pensia et al. 2020 Lemma 1, case split on the sign of x)",
        max(gaps), GADGET_ROUNDING, power="exact",
        detail=f"{sum(int(w.numel()) for w in m.target.weights)} gadgets evaluated through the "
        "pruned network's masked layers",
    )  # fmt: skip


def worst_case_statements(m, q: dict) -> list[Statement]:
    """The lemma against the exact worst case over every network it admits (depth <= 2)."""
    from ..pruning import propagation

    if m.adversarial_points is None:
        q["propagation_worst_case"] = "not measured: exact worst case for depth <= 2 only"
        return []
    ratios = {}
    for e, worst in m.adversarial_errors.items():
        bound = propagation.pointwise_bound(m.target, [e] * m.target.depth, m.adversarial_points)
        ratios[e] = (worst / bound.clamp_min(1e-300)).tolist()
    peak = {e: max(r) for e, r in ratios.items()}
    q["propagation_worst_case_ratio"] = {f"{e:.6g}": v for e, v in peak.items()}
    out = [
        Statement.at_most(
            "propagation_adversarial",
            "max over x and e of (sup |F(x) - f(x)| over every network F with layer-pair "
            "errors <= e) / delta_L(x) <= 1: the lemma holds for its exact worst case",
            max(peak.values()), 1 + m.rounding,
            detail="e = " + ", ".join(f"{e:.4g}: {v:.4f}" for e, v in peak.items())
            + f"; {m.adversarial_points.shape[0]} inputs",
        )
    ]  # fmt: skip
    if m.all_active:
        large = max(ratios)
        at_active = ratios[large][0]
        q["propagation_attained_all_active"] = {f"{e:.6g}": r[0] for e, r in ratios.items()}
        out.append(Statement.at_least(
            "propagation_attained",
            f"at the input with every hidden unit active, worst case / delta_L >= "
            f"{ATTAINED_FRACTION:g} at e = {large:g} (the lemma is tight up to sign conflicts: "
            "a bound 2x too large, or a term too many, would fail)",
            at_active, ATTAINED_FRACTION,
            detail="at the tolerance e = "
            f"{min(ratios):.4g}: {ratios[min(ratios)][0]:.4f}",
        ))  # fmt: skip
    else:
        q["propagation_attained"] = "not measured: no input activates every hidden unit"
    return out


def eps_ladder_comparison(ladder: dict, p: Params, out: Comparison) -> list[Statement]:
    """The eps ladder's statements; the closed-form single-product needs are computed here."""
    from ..theory import malach2020

    eps = ladder["eps"]
    predicted = [malach2020.candidates_needed(e, LADDER_WEIGHT_MAX, p.success_rate) for e in eps]
    out.series["eps_ladder"] = {"eps": eps, "subset_sum": ladder["subset_sum"],
                                "single_product": ladder["single_product"],
                                "single_product_predicted": predicted}  # fmt: skip
    return ladder_statements(eps, ladder["subset_sum"], ladder["single_product"], predicted,
                             p.success_rate, out.quantities, trials=p.ladder_trials)  # fmt: skip


def ladder_statements(eps, subset_needed, single_needed, predicted, rate, q,
                      weight_max=LADDER_WEIGHT_MAX, trials=None) -> list[Statement]:  # fmt: skip
    """The comparisons of the eps ladder, from measured needs (separate so tests can feed in
    other measurements, e.g. single-product needs into the logarithmic-law statement); the
    level statement of the single-product curve needs the number of ``trials`` per rung."""
    log2_inv = np.log2(1 / np.asarray(eps))
    subset = np.asarray(subset_needed, dtype=float)
    single = np.asarray(single_needed, dtype=float)
    finite_subset, finite_single = np.isfinite(subset).all(), np.isfinite(single).all()
    slope = float(np.polyfit(log2_inv, subset, 1)[0]) if finite_subset else math.nan
    subset_power = fit_power_law(1 / np.asarray(eps), subset).exponent
    single_fit = fit_power_law(1 / np.asarray(eps), single)
    single_exponent = single_fit.exponent if finite_single else math.nan
    reference = fit_power_law(1 / np.asarray(eps), predicted).exponent
    single_slope = float(np.polyfit(log2_inv, single, 1)[0]) if finite_single else math.nan
    q.update(subset_sum_log2_slope=slope, subset_sum_power_exponent=subset_power,
             single_product_power_exponent=single_exponent,
             single_product_predicted_exponent=reference,
             single_product_log2_slope=single_slope)  # fmt: skip
    deviation = (float(np.abs(np.log(single / np.asarray(predicted))).max())
                 if finite_single else math.nan)  # fmt: skip
    ratio = single[-1] / subset[-1] if finite_subset and finite_single else math.nan
    lo, hi = LOG_SLOPE_INTERVAL
    level = ([single_level_statement(eps, single, predicted, rate, weight_max, trials, q)]
             if trials else [])  # fmt: skip
    return [
        Statement.within(
            "subset_sum_log_scaling",
            f"subset sum: candidates for success rate {rate} grow linearly in log2(1/eps), "
            f"slope in [{lo}, {hi}] per halving (Lueker 1998; Pensia et al. Cor 2.5)",
            slope,
            LOG_SLOPE_INTERVAL,
            detail=f"n_q = {subset.tolist()} at eps = {list(eps)}; power-law exponent "
            f"{subset_power:.3g}, single product's log2 slope {single_slope:.4g}",
        ),
        counting_floor_statement(eps, subset, rate, weight_max, q),
        Statement.within(
            "single_product_power_law",
            "single product: fitted exponent of candidates vs 1/eps within +-"
            f"{POWER_EXPONENT_HALF_WIDTH} of the closed form's (1 - 2(1-p/2)^N + (1-p)^N = q)",
            single_exponent,
            (reference - POWER_EXPONENT_HALF_WIDTH, reference + POWER_EXPONENT_HALF_WIDTH),
            detail=f"n_q = {single.tolist()}, predicted {list(predicted)}",
        ),
        Statement.at_most(
            "single_product_prediction",
            "max over eps |log(measured n_q / closed-form n_q)| (single product, Malach et al.)",
            deviation,
            PREDICTION_LOG_TOLERANCE,
            power="exact",
        ),
        *level,
        Statement.at_least(
            "log_beats_power",
            "at the smallest eps: single-product n_q / subset-sum n_q >= 1",
            ratio,
            1.0,
            detail=f"eps = {eps[-1]:g}",
        ),
    ]


def single_level_statement(eps, single, predicted, rate, weight_max, trials, q) -> Statement:
    """|mean over rungs of log(n_q / closed-form n_q)| in units of its Monte-Carlo standard
    error: the level of the whole curve, which the per-rung tolerance cannot resolve."""
    from ..theory import malach2020

    sigma = [malach2020.quantile_relative_stderr(n, e, weight_max, rate, trials)
             for n, e in zip(predicted, eps, strict=True)]  # fmt: skip
    finite = bool(np.isfinite(single).all())
    logs = np.log(single / np.asarray(predicted, dtype=float)) if finite else None
    mean = float(logs.mean()) if finite else math.nan
    stderr = math.sqrt(sum(s * s for s in sigma)) / len(sigma)
    q.update(single_product_mean_log_ratio=mean, single_product_mean_log_ratio_stderr=stderr)
    return Statement.at_most(
        "single_product_level",
        f"|mean over eps of log(n_q / closed-form n_q)| / its Monte-Carlo stderr <= {LEVEL_Z:g} "
        "(delta method for the quantile of the trials; Malach et al.'s success probability)",
        abs(mean) / stderr, LEVEL_Z, power="exact",
        detail=f"mean log ratio {mean:.4f}, stderr {stderr:.4f} ({trials} trials per rung)",
    )  # fmt: skip


def counting_floor_statement(eps, subset, rate, weight_max, q) -> Statement:
    """The level of the subset-sum curve: never below the counting floor (2^m sums per pool)."""
    from ..theory import pensia2020

    floors = [pensia2020.subset_sum_candidates_floor(e, weight_max, rate) for e in eps]
    q["subset_sum_counting_floor"] = floors
    finite = bool(np.isfinite(subset).all())
    ratio = float(min(subset / np.asarray(floors, dtype=float))) if finite else math.nan
    return Statement.at_least(
        "subset_sum_counting_floor",
        f"subset sum: min over eps of n_q / N_floor >= 1, N_floor the smallest N with "
        f"E[min(1, 2^min(M, N-M) e / W)] >= {rate} (a pool of m candidates has 2^m sums; "
        "M ~ Bin(N, 1/2) the positive pool)",
        ratio,
        1.0,
        detail=f"floors {floors} at eps = {list(eps)}",
    )


def size_statement(sizes, depth, needs, tolerances, out: Comparison) -> Statement:
    dl = np.asarray(sizes, dtype=float) * depth
    needs_arr = np.asarray(needs, dtype=float)
    finite = bool(np.isfinite(needs_arr).all())
    exponent = fit_power_law(dl, needs_arr).exponent if finite else math.nan
    slope = float(np.polyfit(np.log2(dl), needs_arr, 1)[0]) if finite else math.nan
    out.quantities.update(size_power_exponent=exponent, size_log2_slope=slope)
    out.series["size_ladder"] = {"d": list(sizes), "dL": dl.tolist(), "needed": needs,
                                 "per_weight_tolerance": tolerances}  # fmt: skip
    return Statement.at_most(
        "width_vs_target_size",
        f"subset sum: fitted exponent of the median width factor vs d*L <= {SIZE_EXPONENT_MAX} "
        "(logarithmic O(log(dL/eps)), Pensia et al. Thm 1; polynomial would be >= 1)",
        exponent,
        SIZE_EXPONENT_MAX,
        detail=f"n_q = {list(needs)} at d*L = {dl.tolist()}; log2 slope {slope:.3g}; "
        f"per-weight tolerances {[round(t, 5) for t in tolerances]}",
    )


# Mutants: planted mistakes in the theory the check must catch -----------------------------------


def _step_without_weight_term(err, z_norm_l1, delta_norm_l1, abs_w_delta):
    return err * (z_norm_l1 + delta_norm_l1)


def _step_without_delta_term(err, z_norm_l1, delta_norm_l1, abs_w_delta):
    return err * z_norm_l1 + abs_w_delta


def _step_doubled(err, z_norm_l1, delta_norm_l1, abs_w_delta):
    return 2 * err * (z_norm_l1 + delta_norm_l1) + abs_w_delta


def _gadget_positive_branch_only(sum_plus, sum_minus, weight, radius=1.0):
    return radius * (sum_plus - weight).abs()


def _success_one_pool(match_prob, candidates):
    return 1 - (1 - np.asarray(match_prob, dtype=np.float64)) ** candidates


def _match_uniform_density(weight, tolerance):
    weight = np.asarray(weight, dtype=np.float64)
    return np.minimum(weight + tolerance, 1.0) / 2 - np.maximum(weight - tolerance, -1.0) / 2


_STEP = "theorylab.theory.pensia2020.propagation_step"
MUTANTS = (
    Mutant("propagation_without_weight_term",
           "the propagation step drops (|W| delta)_j, the error carried through the weights",
           {_STEP: _step_without_weight_term}),
    Mutant("propagation_without_delta_term",
           "the propagation step drops e ||delta||_1, the gadget error on the error",
           {_STEP: _step_without_delta_term}),
    Mutant("propagation_doubled",
           "the propagation step counts the gadget error twice (a bound 2x too loose)",
           {_STEP: _step_doubled}),
    Mutant("gadget_error_one_branch",
           "the gadget sup error forgets the x < 0 branch: |A+ - w| only",
           {"theorylab.theory.pensia2020.gadget_sup_error": _gadget_positive_branch_only}),
    Mutant("single_product_one_pool",
           "single-product success needs one sign pool only: 1 - (1 - p)^N",
           {"theorylab.theory.malach2020.single_product_success": _success_one_pool}),
    Mutant("product_density_uniform",
           "the product u v taken as uniform on [-1, 1] (density 1/2, not log(1/|s|)/2)",
           {"theorylab.theory.malach2020.match_probability": _match_uniform_density}),
)  # fmt: skip

QUICK = dict(test_points=2000, ascent_steps=40, ladder_trials=400, ladder_rungs=5,
             size_trials=16, size_rungs=3)  # fmt: skip

CLAIM = Claim(
    name="pruning",
    summary="a random depth-2L ReLU network contains a subnetwork eps-close to any depth-L "
    "target; logarithmic width by subset sum (Malach et al. 2020; Pensia et al. 2020)",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=QUICK,
    negative_control={"candidates": 4, "scaling": False},
    citation="Malach et al. (ICML 2020); Pensia et al. (NeurIPS 2020)",
)
