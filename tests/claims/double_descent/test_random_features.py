"""random_features: compare on hand-made measurements built from Mei & Montanari's formula;
the batched solvers against explicit ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.claims.double_descent import random_features as rf
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params
from theorylab.theory import mei_montanari2019 as mm

D, N_SAMPLES = rf.RF_D, round(rf.RF_PSI2 * rf.RF_D)
WIDTHS = [round(s * D) for s in rf.RF_PSI1]


def params(**values):
    return make_params(get_claim("double_descent"), {**values})


def measurement(r2=1.0, s2=0.25, scale=1.0):
    """Ridge errors equal to the prediction times ``scale`` (spread 2% over 6 repeats); the
    ridgeless errors peak at N = n."""
    lam_bar = rf.RF_LAMBDA / mm.RELU_MU_STAR_SQ
    pred = [mm.predicted_test_error(mm.RELU_ZETA, N / D, N_SAMPLES / D, lam_bar, r2, 0, s2)
            for N in WIDTHS]  # fmt: skip
    spread = np.linspace(-0.02, 0.02, 6)[:, None]
    ridge = np.asarray(pred)[None, :] * scale * (1 + spread)
    ridgeless = np.tile([1.0 / (abs(math.log(N / N_SAMPLES)) + 0.01) for N in WIDTHS], (6, 1))
    return rf.RandomFeaturesMeasurement(D, N_SAMPLES, WIDTHS, ridge, ridgeless)


def test_the_prediction_itself_holds_and_a_30_percent_error_is_caught():
    s = {x.name: x for x in rf.compare(measurement(), params()).statements}
    assert s["random_features_risk"].holds and s["random_features_peak"].holds
    assert s["random_features_risk"].measured == pytest.approx(0.0, abs=1e-9)
    off = {x.name: x for x in rf.compare(measurement(scale=1.3), params()).statements}
    assert off["random_features_risk"].holds is False


def test_swapped_references_and_a_wrong_zeta_are_violated(monkeypatch):
    m = measurement()
    swapped = rf.compare(m, params(control="swap_signal_noise")).statements
    assert swapped[0].holds is False
    monkeypatch.setattr(mm, "RELU_ZETA", mm.RELU_MU1 / mm.RELU_MU_STAR_SQ)
    assert rf.compare(m, params()).statements[0].holds is False


def test_a_peak_away_from_n_is_violated():
    m = measurement()
    m.ridgeless[:, WIDTHS.index(500)] = 1e6
    s = {x.name: x for x in rf.compare(m, params()).statements}["random_features_peak"]
    assert s.holds is False and "N = 500" in s.detail


def test_overflowed_errors_are_inconclusive():
    m = measurement()
    m.ridge[:, 2] = np.inf
    with pytest.raises(Inconclusive, match="N = 150"):
        rf.compare(m, params())


@pytest.mark.parametrize("N", [50, 300, 500])
def test_batched_ridge_solve_is_the_explicit_ridge(N):
    gen = torch.Generator().manual_seed(N)
    Z = torch.randn(3, 120, N, generator=gen, dtype=torch.float64)
    y = torch.randn(3, 120, 1, generator=gen, dtype=torch.float64)
    a = rf._ridge_solve(Z, y, 0.7)
    for r in range(3):
        want = torch.linalg.solve(Z[r].T @ Z[r] + 0.7 * torch.eye(N, dtype=torch.float64),
                                  Z[r].T @ y[r])  # fmt: skip
        assert torch.allclose(a[r], want, atol=1e-10)
