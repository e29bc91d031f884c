"""interpolation_threshold: compare on hand-made measurements; the digits loader."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.claims.double_descent import interpolation_threshold as it
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params

GRID = list(it.IT_GRID)


def params():
    return make_params(get_claim("double_descent"), {})


def measurement(peak_at=100, height=300.0):
    test = np.tile([height if N == peak_at else 1.0 + 1.0 / N for N in GRID], (7, 1))
    train = np.tile([0.5 if N < 100 else 1e-28 for N in GRID], (7, 1))
    return it.InterpolationMeasurement(100, GRID, test, train)


def test_peak_at_n_holds():
    s = {x.name: x for x in it.compare(measurement(), params()).statements}
    assert all(x.holds for x in s.values())
    assert s["interpolation_peak_ratio"].measured == pytest.approx(300.0 / (1 + 1 / 1000))


def test_peak_elsewhere_small_peak_and_no_interpolation_are_violated():
    shifted = {x.name: x for x in it.compare(measurement(peak_at=110), params()).statements}
    assert shifted["interpolation_threshold"].holds is False
    small = {x.name: x for x in it.compare(measurement(height=5.0), params()).statements}
    assert small["interpolation_peak_ratio"].holds is False
    m = measurement()
    m.train[3, GRID.index(125)] = 1e-3
    stuck = {x.name: x for x in it.compare(m, params()).statements}
    assert stuck["interpolation_zero_training_error"].holds is False


def test_non_finite_is_inconclusive():
    m = measurement()
    m.test[0, 0] = np.nan
    with pytest.raises(Inconclusive, match="interpolation-threshold test"):
        it.compare(m, params())


def test_digits_loader_reads_the_same_numbers_as_scikit_learn():
    """data.digits_images reads scikit-learn's CSV without importing scikit-learn."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from theorylab.data import digits_images

    X, y = digits_images()
    bunch = sklearn_datasets.load_digits()
    assert np.array_equal(X.numpy(), bunch.data) and np.array_equal(y.numpy(), bunch.target)
