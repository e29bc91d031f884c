"""ridge: compare on hand-made curves built from Hastie et al.'s formula, and the shared
spectra against the explicit ridge estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.claims.double_descent import ridge
from theorylab.registry import get_claim, make_params
from theorylab.theory import hastie2019

N = 200


def params(**values):
    return make_params(get_claim("double_descent"), {"n": N, **values})


def curve(q, r2=1.0, s2=0.25, optimum_shift=1.0, designs=200):
    """A measured curve equal to Hastie's formula (risks spread symmetrically by 1%), whose
    201-point mean curve has its minimum at ``optimum_shift`` x lambda*."""
    gamma = q / N
    own = hastie2019.optimal_lambda(gamma, r2, s2) or 1.0  # as simulate: 1 when lambda* = 0
    lambdas = [f * own for f in ridge.RIDGE_LAMBDA_FACTORS]
    spread = np.linspace(-0.01, 0.01, designs)
    risks = np.stack([hastie2019.ridge_risk(gamma, lam, r2, s2) * (1 + spread)
                      for lam in lambdas], axis=1)  # fmt: skip
    target = optimum_shift * own
    grid_mean = (np.log(ridge.OPT_GRID) - math.log(target)) ** 2 + 1.0
    return ridge.RidgeCurve(q, lambdas, risks, grid_mean)


def statements(m, p):
    return {s.name: s for s in ridge.compare(m, p).statements}


def test_formula_curves_hold_and_report_the_argmin():
    m = ridge.RidgeMeasurement(N, [curve(100), curve(400)])
    out = ridge.compare(m, params())
    s = {x.name: x for x in out.statements}
    assert s["ridge_risk"].holds and s["ridge_risk"].measured == pytest.approx(0.0, abs=1e-9)
    assert s["ridge_optimal_lambda"].holds
    assert abs(s["ridge_optimal_lambda"].measured) < 0.03  # the grid point nearest lambda*
    assert out.quantities["lambda_opt_theory_gamma_2"] == 0.5


def test_argmin_off_by_a_factor_two_is_violated():
    m = ridge.RidgeMeasurement(N, [curve(100), curve(400, optimum_shift=2.0)])
    s = statements(m, params())["ridge_optimal_lambda"]
    assert s.holds is False and "gamma 2" in s.detail


def test_swapped_references_and_the_gamma_mistake_are_violated(monkeypatch):
    m = ridge.RidgeMeasurement(N, [curve(100), curve(400)])
    swapped = statements(m, params(control="swap_signal_noise"))
    assert swapped["ridge_risk"].holds is False and swapped["ridge_optimal_lambda"].holds is False
    monkeypatch.setattr(hastie2019, "optimal_lambda", lambda g, r2, s2: s2 / r2)
    assert statements(m, params())["ridge_optimal_lambda"].holds is False


def test_no_interior_optimum_without_noise():
    m = ridge.RidgeMeasurement(N, [curve(100, s2=0.0)])
    out = ridge.compare(m, params(noise=0.0))
    assert {h.name: h.met for h in out.hypotheses}["interior_ridge_optimum"] is False
    assert "ridge_optimal_lambda" not in {s.name for s in out.statements}
