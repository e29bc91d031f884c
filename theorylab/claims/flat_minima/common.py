"""Shared pieces of the flat_minima sub-experiments: the digits split, intervals over seeds
and rank correlation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...data import digits_images
from ...runtime import Context

CLASSES = 10
# Two-sided 95% Student t quantiles for 1..30 degrees of freedom (scipy.stats.t.ppf(0.975)).
_T975 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


@dataclass
class Split:
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    X_pool: torch.Tensor  # the rest: the attack sets are drawn from it
    y_pool: torch.Tensor


def digits_split(ctx: Context, n_train: int, n_test: int) -> Split:
    """scikit-learn's digits (pixels / 16 in [0, 1]), split by a seeded permutation."""
    X, y = digits_images("flat_minima")
    X = X / 16.0
    order = torch.randperm(len(y), generator=ctx.generator("split"))
    X, y = X[order], y[order]
    test = slice(len(y) - n_test, len(y))
    return Split(
        X[:n_train], y[:n_train], X[test], y[test], X[n_train : test.start], y[n_train : test.start]
    )


def t_quantile(dof: int) -> float:
    return _T975[dof - 1] if 1 <= dof <= len(_T975) else 1.96


def mean_interval(values) -> tuple[float, float, float]:
    """(mean, lower, upper) of the 95% Student t interval of the mean (nan width for one)."""
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    half = t_quantile(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, mean - half, mean + half


def spearman(a, b) -> float:
    """Spearman rank correlation (average ranks for ties; 0 when one side is constant)."""
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def _ranks(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(x.size, dtype=np.float64)
    for value in np.unique(x):  # ties share their average rank
        tie = x == value
        ranks[tie] = ranks[tie].mean()
    return ranks
