"""weak_features: compare on hand-made measurements; the explicit simulation's noise average
against the closed form on a large small case."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.claims.double_descent import weak_features
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context
from theorylab.theory import belkin2019

N, D, R = 40, 100, 300


def params(**values):
    return make_params(get_claim("double_descent"), {**values})


def measurement(r2=1.0, s2=0.25, offset=0.0):
    ladder = weak_features.weak_ladder(N, D)
    spread = np.linspace(-0.05, 0.05, R)
    rows = []
    for q in ladder:
        value = belkin2019.full_test_error(N, q, r2 * q / D, r2 - r2 * q / D, s2)
        rows.append(value * (1 + spread) + offset)
    return weak_features.WeakFeaturesMeasurement(N, D, ladder, np.stack(rows))


def test_formula_values_hold_and_a_shift_is_caught():
    s = weak_features.compare(measurement(), params()).statements[0]
    assert s.holds and s.power == "exact" and s.measured == pytest.approx(0.0, abs=1e-9)
    shifted = weak_features.compare(measurement(offset=0.05), params()).statements[0]
    assert shifted.holds is False


def test_swapped_references_are_violated():
    s = weak_features.compare(measurement(), params(control="swap_signal_noise")).statements[0]
    assert s.holds is False


def test_non_finite_is_inconclusive():
    m = measurement()
    m.errors[0, 3] = np.nan
    with pytest.raises(Inconclusive, match="weak-features"):
        weak_features.compare(m, params())


def test_simulation_mean_matches_the_theorem_within_4_se():
    """Statistical tier: 2000 designs, the unseen features and the noise simulated explicitly."""
    p = params(designs=2000)
    m = weak_features.simulate(p, Context(seed=12))
    s = weak_features.compare(m, p).statements[0]
    print(s.detail)
    assert s.holds
