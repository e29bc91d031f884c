"""The interpolation threshold of random ReLU features on a 10-class problem (scikit-learn's
digits, one-hot targets, minimum-norm fit; Belkin, Hsu, Ma, Mandal 2019, Fig. 2 style):
interpolation_threshold (the test error peaks at N = n), interpolation_zero_training_error,
interpolation_peak_ratio.

The feature draws (seeds) are stacked and the widths nested (N features = the first N of one
draw), so each width is one batched QR solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...registry import Comparison
from ...report import Statement
from .common import require_finite

if TYPE_CHECKING:
    from ...runtime import Context

# n training images, N grid, test images, feature draws.
IT_N = 100
IT_GRID = (10, 25, 50, 75, 90, 100, 110, 125, 150, 200, 300, 500, 1000)
IT_TEST = 800
IT_SEEDS = 7
# "Large" peak: the median test error at N = n exceeds 10x the minimum over N >= 2n (measured
# ~300x at the defaults: the min-norm fit of a square, ill-conditioned feature matrix).
IT_PEAK_RATIO = 10.0
IT_TRAIN_ZERO = 1e-8  # relative training error counted as zero (float64 solves: ~1e-28)


@dataclass
class InterpolationMeasurement:
    """Squared loss to one-hot targets (mean over samples of ||f(x) - y||^2) per feature draw
    and width: ``test`` and ``train``, both (seeds, len(grid))."""

    n: int
    grid: list[int]
    test: np.ndarray
    train: np.ndarray


def digits(ctx: Context, stream: str):
    """scikit-learn's digits: constant pixels dropped, each pixel standardised, each image
    scaled to norm sqrt(dim); rows in a seeded random order."""
    import torch

    from ...data import digits_images

    X, labels = digits_images("the interpolation-threshold and trained-net checks")
    X = X[:, X.std(dim=0) > 0]
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    X = X * (math.sqrt(X.shape[1]) / X.norm(dim=1, keepdim=True))
    order = torch.randperm(len(labels), generator=ctx.generator(stream))
    return X[order], labels[order]


def simulate(p, ctx: Context) -> InterpolationMeasurement:
    import torch

    from .designs import min_norm_solve_qr

    X, labels = digits(ctx, "threshold/data")
    Xtr, Xte = ctx.to(X[:IT_N]), ctx.to(X[IT_N : IT_N + IT_TEST])
    Ytr = ctx.to(torch.nn.functional.one_hot(labels[:IT_N], 10))
    Yte = ctx.to(torch.nn.functional.one_hot(labels[IT_N : IT_N + IT_TEST], 10))
    dim = X.shape[1]
    W = torch.stack([
        ctx.randn(dim, max(IT_GRID), stream=f"threshold/features/{seed}") / math.sqrt(dim)
        for seed in range(IT_SEEDS)
    ])  # fmt: skip
    Z_all, Zt_all = torch.relu(Xtr @ W), torch.relu(Xte @ W)  # (seeds, samples, max N)
    Y = Ytr.expand(IT_SEEDS, *Ytr.shape)
    test, train = [], []
    for N in IT_GRID:
        Z, Zt = Z_all[:, :, :N], Zt_all[:, :, :N]
        A = min_norm_solve_qr(Z, Y)
        test.append((Zt @ A - Yte).pow(2).sum(dim=2).mean(dim=1))
        train.append((Z @ A - Ytr).pow(2).sum(dim=2).mean(dim=1))
    as_array = lambda rows: torch.stack(rows, dim=1).double().cpu().numpy()  # noqa: E731
    return InterpolationMeasurement(IT_N, list(IT_GRID), as_array(test), as_array(train))


def compare(m: InterpolationMeasurement, p) -> Comparison:
    """The three interpolation statements and the series."""
    require_finite("interpolation-threshold test errors", m.test)
    require_finite("interpolation-threshold training errors", m.train)
    grid = m.grid
    median = np.median(m.test, axis=0)
    peak = grid[int(np.argmax(median))]
    out = Comparison(statements=[])
    out.statements.append(
        Statement.within(
            "interpolation_threshold",
            "N at the peak of the median test error (squared loss to one-hot targets) / n in "
            "[1, 1]: the peak sits at N = n (Belkin et al. 2019)",
            peak / m.n, (1.0, 1.0),
            detail=f"digits, n = {m.n}, K = 10, {m.test.shape[0]} feature draws; peak at "
            f"N = {peak}",
        )
    )  # fmt: skip
    over = [j for j, N in enumerate(grid) if N >= m.n]
    train_max = m.train.max(axis=0)
    out.statements.append(
        Statement.at_most(
            "interpolation_zero_training_error",
            f"max over N >= n of the training error (mean over samples of ||f - y||^2) <= "
            f"{IT_TRAIN_ZERO:g}: min-norm random features interpolate past N = n",
            float(train_max[over].max()), IT_TRAIN_ZERO,
        )
    )  # fmt: skip
    beyond = [median[j] for j, N in enumerate(grid) if N >= 2 * m.n]
    at_n = median[grid.index(m.n)]
    out.statements.append(
        Statement.at_least(
            "interpolation_peak_ratio",
            f"median test error at N = n / min over N >= 2n >= {IT_PEAK_RATIO:g} (a large peak)",
            float(at_n / min(beyond)), IT_PEAK_RATIO,
        )
    )  # fmt: skip
    out.series["interpolation_threshold"] = {
        "n": m.n, "N": list(grid), "test_median": median.tolist(),
        "train_max": train_max.tolist(), "test_all": m.test.T.tolist(),
    }  # fmt: skip
    return out
