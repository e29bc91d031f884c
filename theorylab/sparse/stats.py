"""Paired comparisons over seeds: mean difference, standard error and Student-t bounds.

Seed s trains every variant (ticket, controls) on the same data order, so the comparison of
two variants uses the per-seed differences d_s = a_s - b_s (s = 1..n): mean d_bar, standard
error se = sd(d) / sqrt(n) (sd with n - 1 degrees of freedom) and the t interval
d_bar -+ t_{n-1, q} se. A one-sided bound at confidence c uses q = c; a two-sided interval
uses q = (1 + c) / 2. These are the usual paired t intervals; they assume the d_s are
independent draws (independent seeds) with roughly normal spread.

Example (differences 1, 2, 3: mean 2, se 1/sqrt(3)):
    >>> r = paired([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    >>> r.mean, round(r.se, 9), r.n
    (2.0, 0.577350269, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Paired:
    """Summary of per-seed differences a - b at ``confidence``."""

    mean: float
    se: float
    n: int
    confidence: float
    lower: float  # one-sided lower bound: mean - t_{n-1, c} se
    upper: float  # one-sided upper bound: mean + t_{n-1, c} se
    lower2: float  # two-sided interval at the same confidence
    upper2: float

    def text(self, unit: str = "", scale: float = 1.0) -> str:
        """'mean (se s, 95% two-sided [lo, hi]; one-sided lower L, upper U; n = k)'."""
        f = lambda x: f"{x * scale:.3g}{unit}"  # noqa: E731
        c = f"{self.confidence:.0%}"
        return (f"mean {f(self.mean)} (se {f(self.se)}; {c} two-sided [{f(self.lower2)}, "
                f"{f(self.upper2)}], one-sided lower {f(self.lower)} / upper {f(self.upper)}; "
                f"n = {self.n} seeds)")  # fmt: skip


def t_quantile(q: float, dof: int) -> float:
    """Student-t quantile t_{dof}(q)."""
    from scipy import stats as sps

    return float(sps.t.ppf(q, dof))


def mean_bounds(values, confidence: float = 0.95) -> Paired:
    """t bounds on the mean of ``values`` (n >= 2; fewer give nan bounds)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    mean = float(x.mean()) if n else math.nan
    if n < 2 or not np.isfinite(x).all():
        nan = math.nan
        return Paired(mean, nan, n, confidence, nan, nan, nan, nan)
    se = float(x.std(ddof=1) / math.sqrt(n))
    one = t_quantile(confidence, n - 1) * se
    two = t_quantile((1 + confidence) / 2, n - 1) * se
    return Paired(mean, se, n, confidence, mean - one, mean + one, mean - two, mean + two)


def paired(a, b, confidence: float = 0.95) -> Paired:
    """t bounds on the mean of the per-seed differences a_s - b_s."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in size: {a.size} and {b.size}")
    return mean_bounds(a - b, confidence)


def mean_se(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard error of the mean) along ``axis`` (se 0 for one value)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[axis]
    se = x.std(axis=axis, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(x.mean(axis=axis))
    return x.mean(axis=axis), se
