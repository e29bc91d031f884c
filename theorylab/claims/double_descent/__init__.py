"""double_descent: exact risk curves of minimum-norm interpolation against measured ones.

Statement. For isotropic Gaussian rows x ~ N(0, I_p), y = X beta + noise (variance s2,
||beta||^2 = r2) and beta_hat = pinv(X) y (least squares below p = n, minimum-norm
interpolation above, and the limit of gradient descent from zero), the prediction risk
R = ||beta_hat - beta||^2 has the finite-n closed form s2 p/(n-p-1) for p <= n-2 and
r2 (1 - n/p) + s2 n/(p-n-1) for p >= n+2, infinite for |p - n| <= 1 (Wishart moments,
:mod:`theorylab.theory.wishart`): the curve rises to the interpolation threshold p = n and
descends again past it (Belkin, Hsu, Ma, Mandal, PNAS 2019, "double descent"). Also checked,
one module of this package each:

- ``model_wise``: the finite-n formula, Hastie et al.'s proportional limit, the second descent;
- ``ridge``: the ridge risk through the Marchenko-Pastur Stieltjes transform, with optimal
  lambda* = s2 gamma / r2 (Hastie, Montanari, Rosset, Tibshirani 2019);
- ``weak_features``: the learner sees p of D features (Belkin, Hsu, Xu 2019, Thm 1);
- ``sample_wise``: at d = 100, 95 samples are worse than 80, and optimally tuned ridge is
  monotone in n (Nakkiran 2019, arXiv:1912.07242; Nakkiran, Venkat, Kakade, Ma 2020);
- ``random_features``: random ReLU features regression against Mei & Montanari (2019)'s
  asymptotic test error, and the peak of the ridgeless curve at N = n;
- ``interpolation_threshold``: random ReLU features on a 10-class problem (digits, one-hot
  targets; Belkin et al. 2019 Fig. 2 style);
- ``trained_net`` (qualitative): small two-layer ReLU nets trained on digit parity with label
  noise peak near the first interpolating width (Nakkiran et al. 2019, arXiv:1912.02292).

Setting. Every risk in the linear parts is the *conditional* risk given the design X, averaged
over the noise analytically (module ``designs``), so the Monte-Carlo error comes from X alone.

Shape: :func:`simulate` returns a :class:`Measurement` with one sub-measurement per module;
:func:`compare` (pure) calls each module's ``compare``; the statements, their power labels,
the controls and the mutants are listed in docs/claims/double_descent.md. One-sided tests of
a predicted difference (second_descent, samplewise_more_data_hurts) first require the
prediction to be at least 8 standard errors (a required hypothesis; the run is inconclusive
otherwise) so that a 4-SE test has power. A non-finite mean or standard error (float64
overflow, e.g. ``--signal 1e300``) is never compared: the run is inconclusive, naming it.

Negative controls: ``control="swap_signal_noise"`` evaluates every reference with r2 and s2
exchanged; the measured curves do not move, so the comparisons report the violation.
``control="classical_u_curve"`` replaces second_descent by the classical prediction that the
risk keeps rising past p = n, which the measured curve violates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from ...registry import Claim, Comparison, Mutant, param, parse_list
from ...report import Hypothesis
from . import common
from .common import CONTROLS, MIN_LADDER_GAP

if TYPE_CHECKING:
    from ...runtime import Context

# Mirrors of module constants that validate() and estimate_bytes() need before any heavy
# import (tests check they agree with the modules).
INFINITE_RISK_GAP = 1  # theory.wishart.INFINITE_RISK_GAP
MIN_GAP_FINITE_VARIANCE = 4  # theory.wishart.MIN_GAP_FINITE_VARIANCE
DEFAULT_GAMMAS = (0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 4.0)
WEAK_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 1)
SAMPLE_D, SAMPLE_N_MAX = 100, 300  # sample_wise.SAMPLE_D, max(SAMPLE_N_GRID)
RF_D, RF_N = 100, 300  # random_features
RIDGE_GAMMAS = (0.5, 2.0)  # ridge.RIDGE_GAMMAS


@dataclass(frozen=True)
class Params:
    n: int = param(200, "training samples of the model-wise ladder (p varies)", minimum=2)
    p_grid: str | None = param(
        None, "comma-separated feature counts p for the Monte-Carlo ladder (default: "
        "gamma = p/n in 0.1..4, |p - n| >= 10)",
    )  # fmt: skip
    signal: float = param(1.0, "r2 = ||beta||^2", minimum=0.0)
    noise: float = param(0.25, "s2 = label noise variance of the linear models", minimum=0.0)
    designs: int = param(
        100, "Monte-Carlo designs X per ladder point (stacked, one batched factorisation)",
        minimum=2, maximum=100000,
    )  # fmt: skip
    sample_noise: float = param(
        0.01, "s2 of the sample-wise check at d = 100 (Nakkiran 2019 uses sigma = 0.1)",
        minimum=0.0,
    )  # fmt: skip
    sample_designs: int = param(
        1000, "Monte-Carlo designs of the sample-wise check", minimum=2, maximum=10**6
    )
    weak_n: int = param(40, "samples of the weak-features model (Belkin, Hsu, Xu)", minimum=2)
    weak_d: int = param(100, "total features D of the weak-features model", minimum=2)
    label_noise: float = param(
        0.2, "probability that a training label of the trained-net task is flipped",
        minimum=0.0, maximum=1.0,
    )  # fmt: skip
    trained_net: bool = param(True, "train the small MLPs of trained_net_peak (slowest part)")
    control: str = param(
        "none", "negative control: swap_signal_noise evaluates every reference with r2 and s2 "
        "exchanged; classical_u_curve tests the classical prediction that the risk keeps "
        "rising past p = n (either must be reported violated)", choices=CONTROLS,
    )  # fmt: skip

    @property
    def ladder(self) -> list[int]:
        if self.p_grid is not None:
            return sorted(set(parse_list("--p-grid", self.p_grid, int, minimum=1, unique=False)))
        points = {max(1, round(g * self.n)) for g in DEFAULT_GAMMAS}
        return sorted(p for p in points if abs(p - self.n) >= MIN_LADDER_GAP)

    @property
    def weak_ladder(self) -> list[int]:
        points = {max(1, round(f * self.weak_d)) for f in WEAK_FRACTIONS}
        return sorted(p for p in points if abs(p - self.weak_n) >= MIN_LADDER_GAP)

    def validate(self) -> None:
        if self.signal == 0 and self.noise == 0:
            raise UsageError(
                "signal and noise are both 0: every risk is 0, there is nothing to check"
            )
        if self.n < 2 * MIN_LADDER_GAP:
            raise UsageError(
                f"n must be >= {2 * MIN_LADDER_GAP} so the ladder has points with "
                f"|p - n| >= {MIN_LADDER_GAP} on the under-parameterized side, got {self.n}"
            )
        for p in self.ladder:
            gap = abs(p - self.n)
            if gap <= INFINITE_RISK_GAP:
                raise UsageError(
                    f"p = {p} is at the interpolation threshold n = {self.n}: the expected risk "
                    f"is infinite for |p - n| <= 1 (E 1/chi2_k diverges for k = |p-n|+1 <= 2)"
                )
            if gap < MIN_GAP_FINITE_VARIANCE:
                raise UsageError(
                    f"p = {p} is {gap} from n = {self.n}: the risk is finite but its Monte-Carlo "
                    f"variance is infinite (E 1/chi2_k^2 needs k = |p-n|+1 > 4), so no standard "
                    f"error exists; use |p - n| >= {MIN_GAP_FINITE_VARIANCE}"
                )
        if not self.weak_ladder:
            raise UsageError(
                f"weak_d {self.weak_d} with weak_n {self.weak_n} leaves no ladder point with "
                f"|p - weak_n| >= {MIN_LADDER_GAP}"
            )


def estimate_bytes(p: Params) -> float:
    """Largest stacked block: the nested designs (designs x n x max p) with their two Gram
    matrices and one factorisation, or the sample-wise / weak-features stacks."""
    points = set(p.ladder) | {max(1, round(g * p.n)) for g in RIDGE_GAMMAS}
    under = max((q for q in points if q <= p.n), default=0)
    ladder_block = p.designs * (p.n * max(points) + under**2 + 3 * p.n**2)
    weak_block = p.designs * (p.weak_n * p.weak_d + 3 * p.weak_n**2)
    sample_block = p.sample_designs * (SAMPLE_N_MAX * SAMPLE_D + 4 * SAMPLE_D**2)
    return 8.0 * 2 * max(ladder_block, weak_block, sample_block)


@dataclass
class Measurement:
    """One sub-measurement per sub-experiment module (``trained_net`` None when not run)."""

    model_wise: Any
    ridge: Any
    weak_features: Any
    sample_wise: Any
    random_features: Any
    interpolation: Any
    trained_net: Any = None


def simulate(p: Params, ctx: Context) -> Measurement:
    """Every sub-experiment, each from its own named random streams.

    On the CPU the independent sub-experiments run two at a time (worker threads, largest
    first; torch releases the GIL inside its kernels), with one intra-op thread each (the
    previous setting is restored). Most of the work is batched LAPACK calls, random draws and
    small tensor ops that one intra-op pool cannot spread over two cores, so the workers are
    what uses the second core. Every draw comes from a named stream and every operation is
    deterministic, so the measurement is the same as one after the other
    (``CONCURRENT = False``; tests compare the two).
    """
    from . import interpolation_threshold as threshold
    from . import model_wise, random_features, ridge, sample_wise, trained_net, weak_features

    def model_wise_and_ridge():
        mw, shared = model_wise.simulate(p, ctx, ridge.ridge_points(p))
        return mw, ridge.simulate(p, shared)

    # largest first (CPU seconds at the defaults: 4.5, 2.6, 1.8, 0.5, 0.3, 0.02)
    tasks = {
        "sample_wise": lambda: sample_wise.simulate(p, ctx),
        "trained_net": (lambda: trained_net.simulate(p, ctx)) if p.trained_net else None,
        "model_wise": model_wise_and_ridge,
        "random_features": lambda: random_features.simulate(p, ctx),
        "interpolation": lambda: threshold.simulate(p, ctx),
        "weak_features": lambda: weak_features.simulate(p, ctx),
    }
    tasks = {name: task for name, task in tasks.items() if task is not None}
    from ...runtime import run_in_lanes

    done = run_in_lanes(tasks, lanes=2 if CONCURRENT and ctx.device == "cpu" else 1)
    mw, rm = done["model_wise"]
    return Measurement(
        model_wise=mw, ridge=rm, weak_features=done["weak_features"],
        sample_wise=done["sample_wise"], random_features=done["random_features"],
        interpolation=done["interpolation"], trained_net=done.get("trained_net"),
    )  # fmt: skip


# Run simulate's sub-experiments two at a time on the CPU (False: in turn, same numbers).
CONCURRENT = True


def preconditions(p: Params) -> list[Hypothesis]:
    """The setting's hypotheses (none required: they describe the run, they do not stop it)."""
    from .random_features import setting_hypothesis

    return [
        Hypothesis(
            "gaussian_isotropic_design",
            "rows x_i ~ N(0, I_p) i.i.d., noise independent of X (Wishart moments, Hastie Thm 1)",
            True, "drawn exactly so by construction",
        ),
        Hypothesis(
            "reference_parameters", "references use the run's (r2, s2)", p.control == "none",
            "negative control: references use (r2, s2) swapped"
            if p.control != "none" else f"r2 = {p.signal}, s2 = {p.noise}",
        ),
        Hypothesis(
            "proportional_limit",
            "n, p -> infinity with p/n fixed (Hastie et al.; Mei-Montanari: N, n, d -> infinity)",
            False,
            f"finite n = {p.n} and d = {RF_D}: asymptotic forms are compared with tolerances "
            "that include the known finite-n correction (linear) or a stated finite-d "
            "allowance (RF)",
        ),
        setting_hypothesis(p),
    ]  # fmt: skip


def compare(m: Measurement, p: Params) -> Comparison:
    """Each sub-experiment's comparison, concatenated in the order of the modules."""
    from . import interpolation_threshold as threshold
    from . import model_wise, random_features, ridge, sample_wise, trained_net, weak_features

    r2_ref, s2_ref = common.reference_values(p.control, p.signal, p.noise)
    out = Comparison(statements=[])
    out.quantities.update(n=p.n, r2=p.signal, s2=p.noise, r2_reference=r2_ref,
                          s2_reference=s2_ref)  # fmt: skip
    parts = [
        model_wise.compare(m.model_wise, p),
        ridge.compare(m.ridge, p),
        weak_features.compare(m.weak_features, p),
        sample_wise.compare(m.sample_wise, p),
        random_features.compare(m.random_features, p),
        threshold.compare(m.interpolation, p),
    ]
    if m.trained_net is not None:
        parts.append(trained_net.compare(m.trained_net, p))
    for part in parts:
        out.statements.extend(part.statements)
        out.hypotheses.extend(part.hypotheses)
        out.quantities.update(part.quantities)
        out.series.update(part.series)
    return out


# --- mutants: plausible mistakes in the theory, planted at run time ----------------------------


def _swapped_references(control: str, r2: float, s2: float) -> tuple[float, float]:
    return s2, r2


def _wishart_risk_moment_off_by_one(n: int, p: int, r2: float, s2: float) -> float:
    """E[1/chi2_k] taken as 1/(k - 1): s2 p/(n - p) and r2(1 - n/p) + s2 n/(p - n)."""
    if abs(p - n) <= INFINITE_RISK_GAP:
        return math.inf
    if p < n:
        return s2 * p / (n - p)
    return r2 * (1 - n / p) + s2 * n / (p - n)


def _hastie_lambda_without_gamma(gamma_value: float, r2: float, s2: float) -> float:
    """lambda* = s2 / r2 (the gamma factor dropped)."""
    return s2 / r2


def _hastie_ridge_risk_without_bias(gamma_value, lambda_value, r2, s2) -> float:
    """Thm 5 with the bias term r2 lambda^2 m'(-lambda) dropped."""
    from ...theory import hastie2019

    m_val, dm_val = hastie2019._stieltjes_pair(gamma_value, -lambda_value)
    return float(s2 * gamma_value * (m_val - lambda_value * dm_val))


def _bhx_unseen_not_noise(n: int, p: int, seen: float, unseen: float, s2: float) -> float:
    """The unseen features' variance added to the test error but not to the noise that the
    least-squares fit amplifies."""
    from ...theory import wishart

    return wishart.risk(n, p, seen, s2) + unseen + s2


# Mei & Montanari's zeta = mu1 / mu_star taken as mu1 / mu_star^2 (ReLU: 5.50 for 1.66).
_MM_ZETA_SQUARED_DENOMINATOR = 0.5 / (0.25 - 1 / (2 * math.pi))


def _se_without_sqrt(values) -> tuple[float, float]:
    """A measurement mistake: the standard deviation reported as the standard error."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64).ravel()
    return float(v.mean()), float(v.std(ddof=1))


_THEORY = "theorylab.theory"
_HERE = "theorylab.claims.double_descent"
MUTANTS = (
    Mutant(
        "swap_signal_noise",
        "every reference evaluated with r2 and s2 exchanged (the negative control, as a mutant)",
        {f"{_HERE}.common.reference_values": _swapped_references},
    ),
    Mutant(
        "wishart_moment_off_by_one",
        "E[1/chi2_k] = 1/(k-1) instead of 1/(k-2): s2 p/(n-p) and s2 n/(p-n)",
        {f"{_THEORY}.wishart.risk": _wishart_risk_moment_off_by_one},
    ),
    Mutant(
        "hastie_lambda_without_gamma",
        "optimal ridge lambda* = s2/r2 instead of s2 gamma/r2",
        {f"{_THEORY}.hastie2019.optimal_lambda": _hastie_lambda_without_gamma},
    ),
    Mutant(
        "hastie_ridge_bias_dropped",
        "Hastie Thm 5 ridge risk without its bias term r2 lambda^2 m'(-lambda)",
        {f"{_THEORY}.hastie2019.ridge_risk": _hastie_ridge_risk_without_bias},
    ),
    Mutant(
        "bhx_unseen_not_noise",
        "weak features: the unseen part not counted as noise in the variance term",
        {f"{_THEORY}.belkin2019.full_test_error": _bhx_unseen_not_noise},
    ),
    Mutant(
        "mei_montanari_zeta_wrong_constant",
        "Mei-Montanari zeta = mu1/mu_star^2 instead of mu1/mu_star (5.50 for 1.66)",
        {f"{_THEORY}.mei_montanari2019.RELU_ZETA": _MM_ZETA_SQUARED_DENOMINATOR},
    ),
    Mutant(
        "standard_deviation_as_standard_error",
        "measurement: the standard error reported without the 1/sqrt(designs) factor",
        {f"{_HERE}.common.mean_and_se": _se_without_sqrt},
    ),
)


CLAIM = Claim(
    name="double_descent",
    summary="min-norm least squares follows the exact finite-n double-descent risk curve; ridge, "
    "weak features, sample-wise, random features, trained nets (Belkin et al. 2019; Hastie et "
    "al. 2019; Mei & Montanari 2019; Nakkiran 2019/2020)",
    params=Params,
    simulate=simulate,
    compare=compare,
    preconditions=preconditions,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick={"n": 40, "designs": 80, "sample_designs": 800, "trained_net": False},
    negative_control={"control": "swap_signal_noise"},
    citation="Belkin, Hsu, Ma, Mandal (PNAS 2019); Hastie, Montanari, Rosset, Tibshirani (Ann. "
    "Statist. 2022); Belkin, Hsu, Xu (SIAM J. Math. Data Sci. 2020); Mei & Montanari (Comm. Pure "
    "Appl. Math. 2022); Nakkiran (2019); Nakkiran et al. (ICLR 2020)",
)
