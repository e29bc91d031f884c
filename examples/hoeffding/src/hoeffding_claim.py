"""Hoeffding's inequality as a theorylab claim: an example of a claim defined outside theorylab.

Hoeffding (JASA 1963), Theorem 2: for independent X_1, ..., X_n with a <= X_i <= b and
mean(X) = (X_1 + ... + X_n) / n,

    P(|mean(X) - E mean(X)| >= t) <= 2 exp(-2 n t^2 / (b - a)^2).

The experiment draws ``repeats`` independent samples of n Bernoulli(p) variables (a = 0,
b = 1) and measures the frequency of a deviation of at least t. Two statements:

- ``tail_vs_exact`` (exact): the frequency equals the exact binomial tail within 4 Monte-Carlo
  standard errors plus one count. This checks the measurement itself, and is the sharp
  companion of the bound: Hoeffding's bound is loose (about 5x at the defaults), so it alone
  could not see a mistake of a factor of a few.
- ``hoeffding_bound``: the frequency is at most the bound.

Negative control (``--block 25``): each draw is repeated 25 times, so the n variables are not
independent (only n / 25 are). The frequency stays equal to its exact tail, and the bound,
which assumes independence, is violated (exit 1).

Run it: ``python -m theorylab.check hoeffding --help`` once this package is installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import theorylab
from theorylab import Hypothesis, Report, Statement, UsageError, param
from theorylab.registry import Mutant

# Monte-Carlo band of ``tail_vs_exact``, chosen before any run: 4 standard errors leave a
# two-sided false-alarm probability of about 6e-5 under the normal approximation, and one
# extra count covers that approximation's error when the tail holds few draws.
Z_BAND = 4.0


@dataclass(frozen=True)
class Params:
    n: int = param(100, "variables per mean", minimum=1)
    t: float = param(0.1, "deviation threshold t", above=0.0)
    p: float = param(0.5, "mean of each Bernoulli variable, in (0, 1)", minimum=0.0, maximum=1.0)
    repeats: int = param(20000, "independent means drawn (Monte-Carlo size)", minimum=100)
    block: int = param(
        1, "each draw is repeated this many times (1: independent; > 1 breaks independence)",
        minimum=1,
    )  # fmt: skip

    def validate(self) -> None:
        if not 0 < self.p < 1:
            raise UsageError(f"p must be in (0, 1), got {self.p}")
        if self.n % self.block:
            raise UsageError(f"block must divide n, got n={self.n}, block={self.block}")


def hoeffding_tail(n: int, t: float, width: float = 1.0) -> float:
    """Hoeffding's two-sided bound 2 exp(-2 n t^2 / width^2), width = b - a.

    >>> round(hoeffding_tail(100, 0.1), 6)  # 2 e^{-2}
    0.270671
    """
    return 2.0 * math.exp(-2.0 * n * t * t / (width * width))


def _far(sums, n: int, p: float, t: float, block: int):
    """Whether the mean of n variables, block * sums / n, is at least t from p (the
    comparison is on counts, with a rounding guard: 100 * 0.1 is 10.000000000000002)."""
    return abs(block * sums - n * p) >= n * t * (1 - 1e-12)


def exact_tail(n: int, p: float, t: float, block: int = 1) -> float:
    """P(|mean - p| >= t) when the n variables are n / block independent Bernoulli(p) draws,
    each repeated block times: a sum over the Binomial(n / block, p) probabilities.

    >>> round(exact_tail(4, 0.5, 0.25), 6)  # mean in {0, 1/4, 3/4, 1}: 1 - 6/16
    0.625
    """
    m = n // block
    total = 0.0
    for k in range(m + 1):
        if _far(k, n, p, t, block):
            log_pmf = (
                math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)
                + k * math.log(p) + (m - k) * math.log1p(-p)
            )  # fmt: skip
            total += math.exp(log_pmf)
    return total


def estimate_bytes(p: Params) -> float:
    return 3.0 * 8 * p.repeats * (p.n // p.block)


def plot(report: Report, path: str) -> None:
    """Bars: measured tail frequency, exact tail, Hoeffding's bound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = report.quantities
    labels = ["measured", "exact", "Hoeffding bound"]
    values = [q["tail_frequency"], q["exact_tail"], q["hoeffding_bound"]]
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.bar(labels, values, color=["tab:blue", "tab:green", "tab:red"])
    ax.set_ylabel("P(|mean - p| >= t)")
    ax.set_title(f"Hoeffding, n={report.params['n']}, t={report.params['t']}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _wrong_constant(n: int, t: float, width: float = 1.0) -> float:
    return 2.0 * math.exp(-8.0 * n * t * t / (width * width))


def _one_sided(n: int, t: float, width: float = 1.0) -> float:
    return math.exp(-2.0 * n * t * t / (width * width))


@theorylab.register_claim(
    "hoeffding",
    params=Params,
    summary="Hoeffding's inequality for a mean of n Bernoulli variables (an example user claim)",
    citation="Hoeffding (JASA 1963), Theorem 2",
    estimate_bytes=estimate_bytes,
    plot=plot,
    quick={"repeats": 2000},
    negative_control={"block": 25},
    mutants=(
        Mutant(
            "constant_8",
            "exponent -8 n t^2 instead of -2 n t^2",
            {"hoeffding_claim.hoeffding_tail": _wrong_constant},
        ),
        Mutant(
            "one_sided",
            "the factor 2 of the two-sided bound dropped (a blind spot: the "
            "bound is ~5x loose here)",
            {"hoeffding_claim.hoeffding_tail": _one_sided},
            caught=False,
        ),
    ),  # fmt: skip
)
def run(p: Params, ctx) -> Report:
    import numpy as np
    import torch

    m = p.n // p.block  # independent draws; each is repeated block times
    probs = torch.full((p.repeats, m), p.p, dtype=torch.float64)
    sums = torch.bernoulli(probs, generator=ctx.generator("samples")).sum(1).numpy()
    frequency = float(np.mean(_far(sums, p.n, p.p, p.t, p.block)))
    exact = exact_tail(p.n, p.p, p.t, p.block)
    bound = hoeffding_tail(p.n, p.t)
    half = Z_BAND * math.sqrt(exact * (1 - exact) / p.repeats) + 1 / p.repeats

    report = Report("hoeffding", {}, ctx.seed, ctx.device, ctx.dtype)
    report.statements = [
        Statement.within(
            "tail_vs_exact", "tail frequency = exact binomial tail (4 SE + 1 count)",
            frequency, (exact - half, exact + half), power="exact",
        ),
        Statement.at_most(
            "hoeffding_bound", "P(|mean - p| >= t) <= 2 exp(-2 n t^2)", frequency, bound,
            detail=f"{p.repeats} repeats",
        ),
    ]  # fmt: skip
    report.hypotheses = [
        Hypothesis("bounded", "a <= X_i <= b", True, "Bernoulli draws lie in [0, 1]"),
        Hypothesis(
            "independent", "X_1, ..., X_n independent", p.block == 1,
            f"{m} independent draws" + (f", each repeated {p.block} times" if p.block > 1 else ""),
        ),
    ]  # fmt: skip
    report.quantities = {"tail_frequency": frequency, "exact_tail": exact, "hoeffding_bound": bound}
    return report
