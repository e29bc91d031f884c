"""generalization_bounds: capacity bounds hold but are vacuous for over-parameterized nets;
norm-based bounds track width the right way; everything grows with label noise.

Theory (explicit constants; theorylab/theory/rademacher.py and neyshabur2019.py):

- norm-bounded linear class (Bartlett & Mendelson, JMLR 2002): R_S = (B/n) E||sum sigma_i x_i||,
  between B sqrt(sum||x_i||^2)/(sqrt(2) n) (Khintchine-Kahane, Latala & Oleszkiewicz 1994) and
  B sqrt(sum||x_i||^2)/n (Jensen), and E||sum sigma_i x_i||^2 = sum ||x_i||^2 exactly;
- margin bound (Koltchinskii & Panchenko, Ann. Statist. 2002; Mohri et al. 2018 Thm 5.8): with
  probability 1 - delta, P(y f(x) <= 0) <= (1/n) sum 1[y_i f(x_i) < rho] + (2/rho) R_S(F)
  + 3 sqrt(log(2/delta)/(2n)), with R_S <= 2 B sqrt(sum||x_i||^2)/n for two-layer ReLU nets with
  sum_j |v_j| ||u_j|| <= B, made uniform over the data-dependent B/rho by a union bound over a
  fixed grid;
- the VC bound (Mohri et al. Cor. 3.18 with Sauer's lemma), here with the parameter count as the
  VC dimension;
- the norm-based capacity of Neyshabur, Li, Bhojanapalli, LeCun & Srebro (ICLR 2019, Thm 2):
  sqrt(c) ||V||_F (||U - U0||_F ||X||_F + ||U0 X||_F) / (gamma m) + sqrt(h/m), gamma the
  multi-class margin f_y - max_{j != y} f_j at a stated percentile; it falls with width for
  nets trained to a fixed loss (their Sec. 5), while parameter counts grow.

Setting: scikit-learn's digits (default) or MNIST-1D; two-layer ReLU nets x -> V relu(U x) (a
constant input coordinate carries the biases) trained by full-batch GD with momentum to mean
cross-entropy ``target_loss`` (Neyshabur et al.: 0.01), batched over seeds, widths and noise
levels (module ``training``). Statements (docs/claims/generalization_bounds.md):

- ``rademacher_second_moment`` (exact), ``rademacher_linear`` (interval): Monte-Carlo over sign
  vectors on a training set;
- ``bound_covers_gap_*``: over ``draws`` independent training sets sampled i.i.d. from the data
  set taken as the population (risks exact: errors over the whole set), the number of draws
  whose risk exceeds the bound is at most what Binomial(draws, delta) allows at level
  BINOMIAL_ALPHA; for a trained net, min-norm random-features interpolants (true and random
  labels), and a net fixed before the draws (R_S = 0: the confidence term alone);
- ``vacuous_for_random_labels``, ``vacuous_norm_capacity_random_labels``,
  ``vc_vacuous_real_labels``: the numbers, reported as statements that the bounds exceed 1
  (never that one is below 1);
- ``margin_sign_identity`` (exact): the fraction of positive multi-class margins equals the
  training accuracy (catches a margin taken over all classes, 0 on every correct point);
- ``norm_bound_vs_width`` (the norm term falls: 2^slope per doubling <= 1) and
  ``test_error_vs_width`` (the test error does not rise by more than 2 points over the ladder):
  slopes over the width ladder, paired over seeds (one intercept per seed), t intervals;
- ``label_noise_monotone_*``: Spearman correlation over noise levels x seeds against its
  permutation critical value, for the capacity, the norm product and the test error.

Negative control: ``complexity_factor=0`` drops the complexity term, leaving the bound of one
function fixed in advance (training error + 3 sqrt(log(2/delta)/(2n))) applied to fitted ones:
the random-label interpolants' risk (~0.45) then exceeds it in nearly every draw and
``bound_covers_gap_random_labels`` fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import UsageError
from ...registry import Claim, Comparison, Mutant, param
from ...report import Hypothesis, Statement

if TYPE_CHECKING:
    from ...runtime import Context

DATASETS = ("digits", "mnist1d")
POOL_SIZES = {"digits": 1797, "mnist1d": 4000}
CLASSES = 10
MIN_TEST_POINTS = 100
MIN_NOISE_LEVELS = 5
# Levels of the hypothesis tests, chosen before any run: a true statement fails its binomial
# coverage test (misses <= what Binomial(draws, delta) exceeds with probability >= alpha) or its
# one-sided Spearman permutation test with probability at most this.
BINOMIAL_ALPHA = 0.01
SPEARMAN_ALPHA = 0.01
SPEARMAN_PERMUTATIONS = 20000
SPEARMAN_SEED = 20190506  # fixed: compare() is a pure function of the measurement
# t intervals of slopes paired over seeds (one intercept per seed): two-sided 95%.
CONFIDENCE = 0.95
# Monte-Carlo tolerance for the Rademacher statements: the estimate may sit this many standard
# errors outside the exact value or bracket (two-sided p ~ 6e-5 under the normal limit).
MC_Z = 4.0
# test_error_vs_width: the upper 95% limit of the change in test error over the width ladder
# (paired slope per doubling x doublings) must stay below 2 points. Reasoning, not tuning: on the
# default splits (~1500 test digits) one net's test error has a binomial standard deviation of
# ~0.6 points, and a rise that would count as overfitting with width is several points.
TEST_ERROR_RISE_TOLERANCE = 0.02


def _parse_list(text: str, name: str, kind) -> list:
    parts = [t.strip() for t in text.split(",") if t.strip()]
    if not parts:
        raise UsageError(f"{name} must be a comma-separated list of numbers, got {text!r}")
    try:
        values = [kind(t) for t in parts]
    except ValueError:
        raise UsageError(
            f"{name} must be a comma-separated list of numbers, got {text!r}"
        ) from None
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        raise UsageError(f"{name} must be finite, got {text!r}")
    return values


@dataclass(frozen=True)
class Params:
    dataset: str = param("digits", "data set (the population the draws come from)",
                         choices=DATASETS)  # fmt: skip
    train_size: int = param(300, "training points n per net (every sub-experiment)", minimum=20)
    widths: str = param("32,64,128,256,512", "hidden widths of the width ladder (comma list)")
    label_noise: str = param(
        "0,0.2,0.4,0.6,0.8,1",
        "fractions of training labels replaced by uniform random classes (comma list, at least "
        f"{MIN_NOISE_LEVELS} levels; 1 = random labels)",
    )  # fmt: skip
    noise_width: int = param(128, "hidden width of the label-noise ladder", minimum=1)
    seeds: int = param(3, "independent splits and initialisations per ladder point", minimum=3)
    draws: int = param(40, "independent training sets for the coverage tests", minimum=5)
    coverage_width: int = param(128, "hidden width of the nets in the coverage tests", minimum=1)
    features: int = param(1000, "random ReLU features of the interpolants (coverage tests)",
                          minimum=1)  # fmt: skip
    delta: float = param(0.05, "failure probability delta of the margin and VC bounds, in (0, 1)")
    margin_percentile: float = param(
        5.0, "percentile of the training margins used as the margin rho (gamma)", minimum=0.0,
        maximum=50.0,
    )  # fmt: skip
    complexity_factor: float = param(
        2.0, "the constant in (factor/rho) R_S of the margin bound: 2 in the theorem; 0 drops "
        "the complexity term (negative control)", minimum=0.0,
    )  # fmt: skip
    sign_vectors: int = param(4000, "Monte-Carlo sign vectors for the Rademacher statements",
                              minimum=100)  # fmt: skip
    lr: float = param(0.5, "learning rate of full-batch GD with momentum 0.9", above=0.0)
    target_loss: float = param(0.01, "train each net until its mean cross-entropy is <= this",
                               above=0.0)  # fmt: skip
    max_steps: int = param(3000, "most GD steps per net (a net that does not reach the target "
                           "makes the run inconclusive)", minimum=1)  # fmt: skip

    def validate(self) -> None:
        if not 0 < self.delta < 1:
            raise UsageError(f"delta must be in (0, 1), got {self.delta!r}")
        widths = self.width_list
        if any(w < 1 for w in widths):
            raise UsageError(f"widths must be positive integers, got {self.widths!r}")
        if len(set(widths)) != len(widths):
            raise UsageError(f"widths must be distinct, got {self.widths!r}")
        if len(widths) < 2:
            raise UsageError(
                f"widths needs at least 2 distinct widths (a slope), got {self.widths!r}"
            )
        levels = self.noise_list
        if any(not 0 <= x <= 1 for x in levels):
            raise UsageError(f"label_noise levels must be in [0, 1], got {self.label_noise!r}")
        if len(set(levels)) != len(levels):
            raise UsageError(f"label_noise levels must be distinct, got {self.label_noise!r}")
        if len(levels) < MIN_NOISE_LEVELS:
            raise UsageError(
                f"label_noise needs at least {MIN_NOISE_LEVELS} distinct levels (Spearman test), "
                f"got {self.label_noise!r}"
            )
        if self.features <= self.train_size:
            raise UsageError(
                f"features must exceed train_size (the random-features models interpolate), got "
                f"{self.features} <= {self.train_size}"
            )
        limit = POOL_SIZES[self.dataset] - MIN_TEST_POINTS
        if self.train_size > limit:
            raise UsageError(
                f"train_size must be <= {limit} for {self.dataset} (leaves {MIN_TEST_POINTS} test "
                f"points), got {self.train_size}"
            )

    @property
    def width_list(self) -> list[int]:
        values = _parse_list(self.widths, "widths", float)
        if any(not float(v).is_integer() for v in values):
            raise UsageError(f"widths must be integers, got {self.widths!r}")
        return [int(v) for v in values]

    @property
    def noise_list(self) -> list[float]:
        return _parse_list(self.label_noise, "label_noise", float)


def estimate_bytes(p: Params) -> float:
    """Float64 activations and weights of the batched trainings, the random features and the
    interpolants' kernels, with a factor 4 for gradients, momentum and temporaries."""
    pool = POOL_SIZES[p.dataset]
    d = 66 if p.dataset == "digits" else 42
    n = p.train_size
    widths = p.width_list
    levels = len(p.noise_list)
    width_sweep = p.seeds * sum(widths) * (n + d + CLASSES * len(widths))
    noise_sweep = levels * p.seeds * p.noise_width * (n + d + CLASSES)
    coverage = (p.draws + 1) * p.coverage_width * (pool + n + d + 2)
    features = pool * p.features + n * n + n * p.features
    return 8.0 * 4 * (width_sweep + noise_sweep + coverage + features + p.sign_vectors * n)


@dataclass
class Measurement:
    rademacher: dict[str, Any]
    coverage: dict[str, Any]
    sweeps: dict[str, Any]


def simulate(p: Params, ctx: Context) -> Measurement:
    from . import experiments

    pool_X, pool_y = experiments.load_pool(p.dataset)
    sweeps = experiments.sweeps(p, pool_X, pool_y, ctx)
    # The Rademacher sample: the first seed's training set of the width ladder.
    import torch

    order = torch.randperm(len(pool_y), generator=ctx.generator("sweep/split/0"))
    rad = experiments.rademacher_sample(pool_X[order[: p.train_size]], p.sign_vectors, ctx)
    coverage = experiments.coverage(p, pool_X, pool_y, ctx)
    return Measurement(rademacher=rad, coverage=coverage, sweeps=sweeps)


# compare ---------------------------------------------------------------------------------------
COVERAGE_ARMS = {
    "two_layer": "two-layer ReLU nets trained on the draw (R_S <= 2 B sqrt(S)/n, B the path "
    "norm sum_j |v_j| ||u_j||)",
    "random_features": "min-norm random-features interpolants of the true labels (R_S <= "
    "||v|| sqrt(S)/n)",
    "random_labels": "min-norm random-features interpolants of random labels",
    "fixed_net": "one net trained before the draws (a class of one function: R_S = 0)",
}


def binomial_allowance(draws: int, delta: float, alpha: float) -> tuple[int, float]:
    """Largest miss count k with P(Binomial(draws, delta) >= k) >= alpha, and that tail."""
    from scipy.stats import binom

    k = 0
    while k < draws and binom.sf(k, draws, delta) >= alpha:  # sf(k) = P(X >= k + 1)
        k += 1
    return k, float(binom.sf(k - 1, draws, delta))


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, lower, upper) of the two-sided Student t interval of the mean of ``values``."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, -math.inf, math.inf
    half = float(t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1)
                 / math.sqrt(values.size))  # fmt: skip
    return mean, mean - half, mean + half


def paired_slope(x: np.ndarray, Y: np.ndarray, confidence: float = CONFIDENCE):
    """Common slope of Y (seeds, points) on x with one intercept per seed (a paired design:
    seed-to-seed offsets cancel), by least squares; returns (slope, lower, upper) of the
    two-sided t interval with seeds * points - seeds - 1 degrees of freedom.

    Example (two seeds, parallel lines of slope 2):
        >>> paired_slope(np.array([0.0, 1.0, 2.0]), np.array([[0, 2, 4], [1, 3, 5.0]]))[0]
        2.0
    """
    from scipy.stats import t

    x = np.asarray(x, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    S, K = Y.shape
    if not np.isfinite(Y).all():
        return math.nan, math.nan, math.nan
    xc = x - x.mean()
    Yc = Y - Y.mean(axis=1, keepdims=True)
    sxx = S * float(xc @ xc)
    slope = float((Yc * xc).sum() / sxx)
    dof = S * K - S - 1
    if dof < 1:
        return slope, -math.inf, math.inf
    resid = Yc - slope * xc[None, :]
    se = math.sqrt(float((resid**2).sum()) / dof / sxx)
    half = float(t.ppf(0.5 + confidence / 2, dof)) * se
    return round(slope, 15), slope - half, slope + half


def spearman_test(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Spearman's rho of (x, y) (average ranks for ties), the (1 - alpha) quantile of its
    permutation distribution (y permuted, x's ties kept), and the permutation p-value."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)

    def rho(a, b):
        a = a - a.mean(axis=-1, keepdims=True)
        b = b - b.mean(axis=-1, keepdims=True)
        den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
        return np.where(den > 0, (a * b).sum(-1) / np.where(den > 0, den, 1.0), 0.0)

    observed = float(rho(rx, ry))
    gen = np.random.default_rng(SPEARMAN_SEED)
    perms = np.argsort(gen.random((SPEARMAN_PERMUTATIONS, rx.size)), axis=1)
    null = rho(rx[None, :], ry[perms])
    critical = float(np.quantile(null, 1 - alpha))
    p_value = float((1 + (null >= observed).sum()) / (1 + null.size))
    return observed, critical, p_value


def compare(m: Measurement, p: Params) -> Comparison:
    from ...theory import rademacher

    statements: list[Statement] = []
    hypotheses: list[Hypothesis] = []
    quantities: dict[str, Any] = {}
    series: dict[str, Any] = {}

    # Rademacher complexity of the linear class ------------------------------------------------
    r = m.rademacher
    n, S = r["n"], r["sq_norm_sum"]
    norms = np.asarray(r["norms"], dtype=np.float64)
    M = norms.size
    second = (norms**2).mean() / S
    second_se = (norms**2).std(ddof=1) / math.sqrt(M) / S
    statements.append(
        Statement.within(
            "rademacher_second_moment",
            "Monte-Carlo E||sum sigma_i x_i||^2 / sum ||x_i||^2 = 1 (E sigma_i sigma_j = 1[i=j]), "
            f"within {MC_Z:g} standard errors",
            second, (1 - MC_Z * second_se, 1 + MC_Z * second_se), power="exact",
            detail=f"{M} sign vectors, n = {n}, standard error {second_se:.2g}",
        )
    )  # fmt: skip
    lo, hi = rademacher.linear_bracket(S, n, 1.0)
    estimate = norms.mean() / n
    se = norms.std(ddof=1) / math.sqrt(M) / n
    statements.append(
        Statement.within(
            "rademacher_linear",
            "Monte-Carlo R_S = (1/n) E||sum sigma_i x_i|| (B = 1) / its Jensen end sqrt(S)/n lies "
            "in [1/sqrt(2), 1] (Khintchine-Kahane's best constant, Jensen), widened by "
            f"{MC_Z:g} standard errors",
            estimate / hi, ((lo - MC_Z * se) / hi, 1 + MC_Z * se / hi),
            detail=f"R_S = {estimate:.5g} +- {se:.2g}; bracket [{lo:.5g}, {hi:.5g}]",
        )
    )  # fmt: skip
    quantities.update(rademacher_estimate=estimate, rademacher_lower=lo, rademacher_upper=hi,
                      rademacher_ratio=estimate / hi)  # fmt: skip

    # Coverage ---------------------------------------------------------------------------------
    c = m.coverage
    allowed, tail = binomial_allowance(c["draws"], p.delta, BINOMIAL_ALPHA)
    coverage_series = {}
    for arm, description in COVERAGE_ARMS.items():
        rows = c[arm]
        risk, bound = np.asarray(rows["risk"]), np.asarray(rows["bound"])
        misses = int((risk > bound).sum())
        gap = risk - np.asarray(rows["train_error"])
        finite = np.isfinite(bound)
        median_bound = float(np.median(bound))
        statements.append(
            Statement.at_most(
                f"bound_covers_gap_{arm}",
                f"{description}: draws whose risk exceeds the margin bound (delta = {p.delta:g}) "
                f"<= the most Binomial({c['draws']}, delta) allows at level {BINOMIAL_ALPHA:g}",
                misses, allowed,
                detail=f"median bound {median_bound:.3g}, median risk {np.median(risk):.3g}, "
                f"median test-train gap {np.median(gap):.3g}, median bound / risk "
                f"{np.median(bound / np.maximum(risk, 1e-12)):.3g}; P(Bin >= {allowed}) = "
                f"{tail:.3g}; {int((~finite).sum())} draws without a positive margin",
            )
        )  # fmt: skip
        quantities[f"{arm}_misses"] = misses
        quantities[f"{arm}_median_bound"] = median_bound
        quantities[f"{arm}_median_risk"] = float(np.median(risk))
        quantities[f"{arm}_median_gap"] = float(np.median(gap))
        coverage_series[arm] = {
            "risk": risk.tolist(),
            "bound": bound.tolist(),
            "train_error": np.asarray(rows["train_error"]).tolist(),
        }
    quantities["coverage_allowed_misses"] = allowed
    series["coverage"] = coverage_series
    random_bounds = np.asarray(c["random_labels"]["bound"])
    statements.append(
        Statement.at_least(
            "vacuous_for_random_labels",
            "the margin bound (explicit constants) of over-parameterized interpolants of random "
            "labels exceeds 1 in every draw (reported: the survey's point)",
            float(np.min(random_bounds)), 1.0,
            detail=f"{p.features} random features for n = {p.train_size}; median "
            f"{np.median(random_bounds):.3g}; risk {np.median(c['random_labels']['risk']):.3g}",
        )
    )  # fmt: skip
    steps = np.asarray(c["steps"])
    hypotheses.append(
        Hypothesis(
            "coverage_nets_trained", f"every coverage net reached cross-entropy <= "
            f"{p.target_loss:g} within {p.max_steps} steps", bool((steps >= 0).all()),
            f"steps: median {np.median(steps):.0f}, max {steps.max()}; "
            f"{int((steps < 0).sum())} not converged", required=True,
        )
    )  # fmt: skip

    # Sweeps -----------------------------------------------------------------------------------
    sw = m.sweeps
    W, Nz = sw["width"], sw["noise"]
    widths = np.asarray(sw["widths"], dtype=np.float64)
    levels = np.asarray(sw["levels"], dtype=np.float64)
    width_steps, noise_steps = np.asarray(sw["width_steps"]), np.asarray(sw["noise_steps"])
    converged = bool((width_steps >= 0).all() and (noise_steps >= 0).all())
    hypotheses.append(
        Hypothesis(
            "sweep_nets_trained", f"every ladder net reached cross-entropy <= {p.target_loss:g} "
            f"within {p.max_steps} steps (Neyshabur et al. compare nets at a fixed loss)",
            converged, f"width ladder steps max {width_steps.max()}, noise ladder steps max "
            f"{noise_steps.max()}", required=True,
        )
    )  # fmt: skip

    identity = max(
        float(np.max(np.abs(W["positive_margin_fraction"] - W["train_accuracy"]))),
        float(np.max(np.abs(Nz["positive_margin_fraction"] - Nz["train_accuracy"]))),
    )
    statements.append(
        Statement.within(
            "margin_sign_identity",
            "fraction of training points with multi-class margin f_y - max_{j != y} f_j > 0 "
            "minus the training accuracy (argmax), largest over every ladder net: 0",
            identity, (0.0, 0.0), power="exact",
            detail="a margin that takes the max over all classes is 0 on every correct point",
        )
    )  # fmt: skip

    log_w = np.log2(widths)
    mean, lower, upper = paired_slope(log_w, np.log2(W["norm_term"]))
    statements.append(
        Statement.at_most(
            "norm_bound_vs_width",
            "Neyshabur et al.'s norm term: factor per doubling of the width (2^slope of log norm "
            f"term on log width, paired over {p.seeds} seeds), upper 95% limit <= 1",
            2.0**upper, 1.0, power="bound",
            detail=f"slope {mean:.3f} [{lower:.3f}, {upper:.3f}] per doubling; norm term "
            f"{np.mean(W['norm_term'][:, 0]):.3g} -> {np.mean(W['norm_term'][:, -1]):.3g} "
            f"from width {int(widths[0])} to {int(widths[-1])}",
        )
    )  # fmt: skip
    quantities.update(norm_term_slope=mean, norm_term_slope_lower=lower,
                      norm_term_slope_upper=upper)  # fmt: skip
    param_slope = float(np.polyfit(log_w, np.log2(np.asarray(sw["parameters"], float)), 1)[0])
    quantities["parameter_count_slope"] = param_slope
    for key in ("V_F", "dU_F", "U0X_F", "capacity", "vc_bound"):
        smean, slo, shi = paired_slope(log_w, np.log2(np.maximum(W[key], 1e-300)))
        quantities[f"{key}_slope"] = smean
        quantities[f"{key}_slope_interval"] = [slo, shi]

    span = float(log_w.max() - log_w.min())
    emean, elo, ehi = paired_slope(log_w, W["test_error"])
    statements.append(
        Statement.within(
            "test_error_vs_width",
            "change of the test error over the width ladder (slope per doubling x doublings, "
            f"paired over seeds): upper 95% limit <= {TEST_ERROR_RISE_TOLERANCE:g}",
            ehi * span, (-1.0, TEST_ERROR_RISE_TOLERANCE), power="bound",
            detail=f"change {emean * span:+.4f} [{elo * span:+.4f}, {ehi * span:+.4f}]; test "
            f"error {np.mean(W['test_error'][:, 0]):.4f} -> {np.mean(W['test_error'][:, -1]):.4f}",
        )
    )  # fmt: skip
    quantities.update(test_error_change=emean * span,
                      test_error_change_interval=[elo * span, ehi * span])  # fmt: skip

    params_count = np.asarray(sw["parameters"])
    over = params_count > sw["n"]
    if over.any():
        vc_min = float(np.min(W["vc_bound"][:, over]))
        vc = Statement.at_least(
            "vc_vacuous_real_labels",
            "VC bound (D = parameter count) of the true-label nets with more weights than "
            "training points exceeds 1 (reported)", vc_min, 1.0,
            detail=f"parameters {params_count.min()}..{params_count.max()} for n = {sw['n']}",
        )  # fmt: skip
    else:
        vc = Statement.at_least("vc_vacuous_real_labels", "VC bound of nets with more weights "
                                "than training points exceeds 1", math.nan, 1.0)  # fmt: skip
        vc.mark_not_evaluable("no width has more weights than training points")
    statements.append(vc)

    top = int(np.argmax(levels))
    statements.append(
        Statement.at_least(
            "vacuous_norm_capacity_random_labels",
            f"Neyshabur et al.'s capacity (constants set to 1) of nets fit to labels with noise "
            f"{levels[top]:g} exceeds 1 on every seed (reported)",
            float(np.min(Nz["capacity"][top])), 1.0,
            detail=f"at noise 0: {np.mean(Nz['capacity'][int(np.argmin(levels))]):.3g}",
        )
    )  # fmt: skip

    x = np.repeat(levels, sw["seeds"])
    for key, label in (("capacity", "capacity"), ("product", "norm"),
                       ("test_error", "test_error")):  # fmt: skip
        rho, critical, p_value = spearman_test(x, Nz[key].reshape(-1), SPEARMAN_ALPHA)
        statements.append(
            Statement.at_least(
                f"label_noise_monotone_{label}",
                f"Spearman correlation of {key} with the label-noise fraction ({len(levels)} "
                f"levels x {sw['seeds']} seeds) >= its permutation critical value at level "
                f"{SPEARMAN_ALPHA:g}",
                rho, critical,
                detail=f"permutation p = {p_value:.2g}; {key} by level: "
                + ", ".join(f"{lv:g}: {np.mean(Nz[key][i]):.3g}" for i, lv in enumerate(levels)),
            )
        )  # fmt: skip

    quantities.update(
        parameters=[int(v) for v in params_count], widths=[int(w) for w in widths],
        levels=levels.tolist(),
    )  # fmt: skip
    series["width"] = {
        "widths": widths.tolist(),
        "parameters": params_count.tolist(),
        **{key: W[key].tolist() for key in ("norm_term", "capacity", "V_F", "dU_F", "U0X_F",
                                            "X_F", "gamma", "test_error", "vc_bound")},
    }  # fmt: skip
    series["noise"] = {
        "levels": levels.tolist(),
        **{key: Nz[key].tolist() for key in ("capacity", "norm_term", "product", "test_error",
                                             "gamma", "train_accuracy")},
    }  # fmt: skip
    return Comparison(statements, hypotheses, quantities, series)


# Mutants ---------------------------------------------------------------------------------------
def _khintchine_one(sq_norm_sum, n, B=1.0):
    upper = B * math.sqrt(sq_norm_sum) / n
    return upper, upper


def _margin_over_all_classes(logits, y):
    return logits.gather(-1, y[..., None])[..., 0] - logits.amax(-1)


def _no_confidence_term(n, delta):
    return 0.0


def _norm_terms_without_init(U, U0, V, X):
    from ...theory.neyshabur2019 import NormTerms

    return NormTerms(V_F=float(V.norm()), dU_F=float(U.norm()), X_F=float(X.norm()),
                     U0X_F=float((X @ U0.T).norm()))  # fmt: skip


def _two_layer_rademacher_quartered(path_norm, sq_norm_sum, n):
    return 0.5 * path_norm * math.sqrt(sq_norm_sum) / n


MUTANTS = (
    Mutant("khintchine_constant_one", "Khintchine's constant 1/sqrt(2) replaced by 1 (the "
           "bracket collapses onto Jensen's end)",
           {"theorylab.theory.rademacher.linear_bracket": _khintchine_one}),
    Mutant("margin_max_over_all_classes", "multi-class margin f_y - max_j f_j with the target "
           "class included (0 on every correctly classified point)",
           {"theorylab.theory.neyshabur2019.multiclass_margin": _margin_over_all_classes}),
    Mutant("confidence_term_dropped", "the 3 sqrt(log(2/delta)/(2n)) term of the margin bound "
           "dropped", {"theorylab.theory.rademacher.confidence_term": _no_confidence_term}),
    Mutant("distance_from_init_as_norm", "||U||_F in place of ||U - U0||_F in Neyshabur et "
           "al.'s norm term", {"theorylab.theory.neyshabur2019.norm_terms":
                               _norm_terms_without_init}),
    Mutant("two_layer_rademacher_quartered", "2 B sqrt(S)/n replaced by B sqrt(S)/(2n): a factor "
           "4 too small; the trained nets' bounds are so loose that coverage cannot see it",
           {"theorylab.theory.rademacher.two_layer_rademacher": _two_layer_rademacher_quartered},
           caught=False),
)  # fmt: skip


CLAIM = Claim(
    name="generalization_bounds",
    summary="capacity bounds hold but are vacuous for over-parameterized nets; Neyshabur et al.'s "
    "norm term falls with width; bounds, norms and test error grow with label noise",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=dict(
        train_size=100,
        widths="16,64,256",
        label_noise="0,0.25,0.5,0.75,1",
        noise_width=64,
        draws=40,
        coverage_width=32,
        features=300,
        sign_vectors=1000,
    ),
    negative_control=dict(complexity_factor=0.0),
    citation="Koltchinskii & Panchenko (Ann. Statist. 2002); Bartlett & Mendelson (JMLR 2002); "
    "Neyshabur, Li, Bhojanapalli, LeCun, Srebro (ICLR 2019)",
)
