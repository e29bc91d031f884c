"""What every double_descent comparison shares: the 4-SE rule, the power requirement, sample
statistics, the reference values (swapped under the negative control) and the finiteness rule.

Pure numpy: no torch, so the compare functions run (and are unit-tested) on hand-made arrays.

Example:
    >>> mean_and_se([1.0, 2.0, 3.0])
    (2.0, 0.5773502691896258)
    >>> z_score(1.0, 1.0, 0.0), z_score(2.0, 1.0, 0.0)
    (0.0, inf)
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import Inconclusive
from ...report import Hypothesis

CONTROLS = ("none", "swap_signal_noise", "classical_u_curve")
# Statements at 4 standard errors: over ~15 ladder points a correct formula fails with
# probability ~15 * 6e-5 ~ 1e-3 (normal tails; the skew of tr(W^-1) near the threshold is the
# reason for 4 rather than 3).
Z_LIMIT = 4.0
# A one-sided 4-SE test of a predicted difference is decisive only when the prediction is
# itself well above 4 SE: require 2 x 4 SE (a correct formula then passes with probability
# ~ P(N(8, 1) >= 4) > 0.9999); below that the check reports itself inconclusive.
POWER_FACTOR = 2.0
# Ladder points closer than this to the threshold are skipped in the *default* ladders (a user
# grid is taken as given and validated instead).
MIN_LADDER_GAP = 10


def reference_values(control: str, r2: float, s2: float) -> tuple[float, float]:
    """(r2, s2) as the references use them: exchanged under ``control="swap_signal_noise"``.

    Every reference of every sub-experiment goes through this one function (the swap mutant
    replaces it), so the control and the mutant move the theory, never the measurement.
    """
    if control == "swap_signal_noise":
        return s2, r2
    return r2, s2


def mean_and_se(values) -> tuple[float, float]:
    """Sample mean and its standard error s / sqrt(R) (float64, unbiased s)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def z_score(mean: float, reference: float, se: float) -> float:
    """(mean - reference) / se; with se = 0 (a deterministic risk, e.g. s2 = 0 past the
    threshold) 0 when they agree to 1e-12 relative and +-inf otherwise."""
    if se > 0:
        return (mean - reference) / se
    if math.isclose(mean, reference, rel_tol=1e-12, abs_tol=1e-300):
        return 0.0
    return math.copysign(math.inf, mean - reference)


def require_finite(what: str, *values: float) -> None:
    """Raise :class:`Inconclusive` naming ``what`` when a measured number is NaN or infinite.

    A statement evaluated on an overflowed mean or an infinite standard error would read as a
    verdict; it is a numerical failure instead (e.g. ``--signal 1e300``: squared risks
    overflow float64).
    """
    for value in values:
        arr = np.asarray(value, dtype=np.float64)
        if not bool(np.isfinite(arr).all()):
            raise Inconclusive(
                f"{what} is not finite ({_first_bad(arr)}): a float64 overflow or NaN, e.g. "
                "from an extreme --signal, --noise or --sample-noise"
            )


def _first_bad(arr: np.ndarray) -> str:
    bad = arr.ravel()[~np.isfinite(arr.ravel())]
    return f"{bad[0]}" if bad.size else "?"


def power_hypothesis(name: str, predicted: float, se: float, knob: str) -> Hypothesis:
    """Required hypothesis: the predicted difference is >= POWER_FACTOR * 4 standard errors.

    When it is not met the caller adds no statement and the report is inconclusive (the run
    is too small to test the prediction).
    """
    met = bool(predicted >= POWER_FACTOR * Z_LIMIT * se)
    ratio = predicted / se if se > 0 else math.inf
    return Hypothesis(
        name,
        f"predicted difference >= {POWER_FACTOR:g} x {Z_LIMIT:g} SE of the measured one (the "
        "4-SE test can then tell a correct prediction from a wrong one)",
        met,
        f"predicted {predicted:.4g}, SE {se:.2g} ({ratio:.1f} SE); raise {knob} if not met",
        required=True,
    )
