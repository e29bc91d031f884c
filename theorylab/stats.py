"""Small statistics helpers shared by the claims."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PowerLawFit:
    """log y = exponent * log x + log prefactor, by least squares over all points."""

    exponent: float
    prefactor: float
    stderr: float  # standard error of the exponent (nan with fewer than 3 points)
    points: int


def fit_power_law(x, y) -> PowerLawFit:
    """Least-squares fit of y = c x^alpha on log-log axes.

    Example:
        >>> fit = fit_power_law([1, 4, 16], [2.0, 1.0, 0.5])
        >>> round(fit.exponent, 12), round(fit.prefactor, 12)
        (-0.5, 2.0)
    """
    lx = np.log(np.asarray(x, dtype=np.float64))
    ly = np.log(np.asarray(y, dtype=np.float64))
    if lx.size < 2 or np.ptp(lx) == 0 or not np.isfinite(ly).all():
        return PowerLawFit(math.nan, math.nan, math.nan, int(lx.size))
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    if lx.size > 2:
        resid = ly - A @ coef
        sigma2 = float(resid @ resid) / (lx.size - 2)
        stderr = math.sqrt(sigma2 / float(((lx - lx.mean()) ** 2).sum()))
    else:
        stderr = math.nan
    return PowerLawFit(float(coef[0]), float(math.exp(coef[1])), stderr, int(lx.size))
