"""model_wise: compare on hand-made measurements (the statements' logic without a simulation),
and the nested-design simulation against independent per-p computations."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.claims.double_descent import Params, designs, model_wise
from theorylab.errors import Inconclusive
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context
from theorylab.theory import wishart

N, LADDER, R = 40, [10, 20, 28, 52, 60, 80, 160], 400


def params(**values) -> Params:
    return make_params(get_claim("double_descent"), {"n": N, **values})


def exact_measurement(r2=1.0, s2=0.25, spread=0.02) -> model_wise.ModelWiseMeasurement:
    """Per-design risks whose mean is the Wishart value exactly and whose relative spread is
    ``spread`` (deviations symmetric about 0, so every z-score is 0)."""
    deviations = np.linspace(-1.0, 1.0, R) * spread * np.sqrt(3)
    risks = np.stack([wishart.risk(N, q, r2, s2) * (1 + deviations) for q in LADDER])
    return model_wise.ModelWiseMeasurement(N, list(LADDER), risks)


def names(comparison) -> dict:
    return {s.name: s for s in comparison.statements}


def test_exact_means_hold_with_zero_z_and_paired_second_descent():
    out = model_wise.compare(exact_measurement(), params())
    s = names(out)
    assert s["finite_sample_risk"].measured == pytest.approx(0.0, abs=1e-9)
    assert s["finite_sample_risk"].power == "exact" and s["finite_sample_risk"].holds
    assert s["asymptotic_risk"].holds and s["second_descent"].holds
    assert s["second_descent_size"].measured == pytest.approx(0.0, abs=1e-9)
    # perfectly correlated designs: the paired difference has a tiny SE, the drop is huge
    assert s["second_descent"].measured > 100
    assert out.series["risk_exact"] == [wishart.risk(N, q, 1.0, 0.25) for q in LADDER]


def test_one_point_five_standard_errors_off_is_reported_at_that_point():
    m = exact_measurement()
    se = m.risks[3].std(ddof=1) / np.sqrt(R)
    m.risks[3] += 5 * se
    s = names(model_wise.compare(m, params()))["finite_sample_risk"]
    assert s.holds is False and s.measured == pytest.approx(5.0, rel=1e-9)
    assert "p = 52" in s.detail


def test_swapped_references_are_violated():
    out = names(model_wise.compare(exact_measurement(), params(control="swap_signal_noise")))
    assert out["finite_sample_risk"].holds is False and out["asymptotic_risk"].holds is False


def test_classical_u_curve_control_replaces_second_descent_and_is_violated():
    out = names(model_wise.compare(exact_measurement(), params(control="classical_u_curve")))
    assert out["classical_u_curve"].holds is False
    assert "second_descent" not in out and "second_descent_size" not in out


def test_second_descent_not_claimed_without_noise():
    """With s2 = 0 the exact curve rises past n: the hypothesis is reported unmet, no statement."""
    out = model_wise.compare(exact_measurement(s2=0.0), params(noise=0.0))
    assert "second_descent" not in names(out)
    assert {h.name: h.met for h in out.hypotheses}["second_descent_predicted"] is False


def test_too_few_designs_make_the_power_hypothesis_fail():
    """A drop measured with huge spread cannot be tested at 4 SE: required hypothesis unmet."""
    out = model_wise.compare(exact_measurement(spread=40.0), params())
    power = {h.name: h for h in out.hypotheses}["second_descent_power"]
    assert power.required and power.met is False
    assert "second_descent" not in names(out)


def test_non_finite_measurement_is_inconclusive_naming_the_point():
    m = exact_measurement()
    m.risks[5, 0] = np.inf
    with pytest.raises(Inconclusive, match="p = 80"):
        model_wise.compare(m, params())


def test_compare_is_pure():
    m = exact_measurement()
    before = m.risks.copy()
    a, b = model_wise.compare(m, params()), model_wise.compare(m, params())
    assert np.array_equal(m.risks, before)
    assert [s.measured for s in a.statements] == [s.measured for s in b.statements]


def test_nested_designs_give_each_point_its_own_conditional_risk():
    """Each ladder point's risks equal conditional_risks on the first p columns of the nested
    stack (the Gram shortcuts change nothing), and the ridge points' spectra agree."""
    p = params(designs=6, p_grid="10,20,60,80")
    ctx = Context(seed=4)
    m, shared = model_wise.simulate(p, ctx, ridge_points=[20, 80])
    X = designs.draw_designs(ctx, 6, N, 80, f"design/{N}/nested")
    for row, q in zip(m.risks, m.ladder, strict=True):
        beta = designs.unit_direction(ctx, q, p.signal, f"beta/{q}")
        want = designs.conditional_risks(X[:, :, :q].contiguous(), beta, p.noise)[:, 0]
        assert row == pytest.approx(want.numpy(), rel=1e-9)
    assert sorted(shared) == [20, 80]


def test_model_wise_simulation_is_deterministic():
    p = params(designs=5, p_grid="10,60")
    a = model_wise.simulate(p, Context(seed=1))[0].risks
    b = model_wise.simulate(p, Context(seed=1))[0].risks
    assert np.array_equal(a, b)
