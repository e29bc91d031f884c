"""sample_wise: compare on hand-made measurements; nested Gram accumulation against direct
conditional risks."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.claims.double_descent import designs, sample_wise
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context
from theorylab.theory import hastie2019, wishart

D, R = sample_wise.SAMPLE_D, 500


def params(**values):
    return make_params(get_claim("double_descent"), {**values})


def measurement(r2=1.0, s2=0.01, spread=0.05):
    """Paired designs: each design's risk is its exact value times a common factor, so the
    paired differences are exact and their SE small."""
    grid = list(sample_wise.SAMPLE_N_GRID)
    factor = 1 + np.linspace(-spread, spread, R)
    ridgeless = {n: wishart.risk(n, D, r2, s2) * factor for n in grid if abs(n - D) > 1}
    optimal = {n: hastie2019.optimal_ridge_risk(D / n, r2, s2) * factor for n in grid}
    return sample_wise.SampleWiseMeasurement(D, grid, ridgeless, optimal)


def test_exact_values_hold():
    out = sample_wise.compare(measurement(), params())
    s = {x.name: x for x in out.statements}
    assert s["samplewise_more_data_hurts"].holds
    assert s["samplewise_matches_formula"].measured == pytest.approx(0.0, abs=1e-6)
    assert s["samplewise_optimal_ridge_monotone"].holds
    assert s["samplewise_optimal_ridge_monotone"].power == "sanity"


def test_an_increase_of_optimal_ridge_is_caught():
    m = measurement()
    m.optimal[150] = m.optimal[120] * 1.2
    s = {x.name: x for x in sample_wise.compare(m, params()).statements}
    assert s["samplewise_optimal_ridge_monotone"].holds is False
    assert "120 -> 150" in s["samplewise_optimal_ridge_monotone"].detail


def test_swapped_references_are_violated():
    s = {x.name: x for x in sample_wise.compare(measurement(), params(
        control="swap_signal_noise")).statements}  # fmt: skip
    assert s["samplewise_matches_formula"].holds is False


def test_no_predicted_hurt_no_statement():
    """Without noise the formula predicts no hurt (the bias only falls): hypothesis unmet,
    no statement."""
    out = sample_wise.compare(measurement(s2=0.0), params(sample_noise=0.0))
    assert {h.name: h.met for h in out.hypotheses}["more_data_hurts_predicted"] is False
    assert "samplewise_more_data_hurts" not in {s.name for s in out.statements}


def test_non_finite_is_inconclusive():
    m = measurement()
    m.optimal[60][0] = np.inf
    with pytest.raises(Inconclusive, match="n = 60"):
        sample_wise.compare(m, params())


def test_nested_gram_accumulation_equals_direct_risks():
    p = params(sample_designs=4)
    ctx = Context(seed=9)
    m = sample_wise.simulate(p, ctx)
    beta = designs.unit_direction(ctx, D, p.signal, "sample/beta")
    X = designs.draw_designs(ctx, 4, max(sample_wise.SAMPLE_N_GRID), D, "sample/design")
    for n in (20, 95, 105, 300):
        lam = hastie2019.optimal_lambda(D / n, p.signal, p.sample_noise)
        want = designs.conditional_risks(X[:, :n].contiguous(), beta, p.sample_noise, (0.0, lam))
        assert m.ridgeless[n] == pytest.approx(want[:, 0].numpy(), rel=1e-9)
        assert m.optimal[n] == pytest.approx(want[:, 1].numpy(), rel=1e-9)
