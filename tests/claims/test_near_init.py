"""near_init: every statement on a reduced default setting, the mean-field negative control,
the hypotheses, user data, determinism, and the H_inf closed form against independent
computations (Sheppard's orthant formula and scipy's bivariate normal CDF)."""

import json
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

import theorylab
from theorylab.theory import du2019

SMALL = dict(width=1024, rungs=3, inits=2, steps=300)


@pytest.fixture(scope="module")
def lazy():
    return theorylab.check("near_init", seed=0, **SMALL)


@pytest.fixture(scope="module")
def mean_field():
    return theorylab.check("near_init", seed=0, parameterization="mean_field", **SMALL)


STATEMENTS = [
    "kernel_closed_form", "linear_convergence", "distance_bound", "flip_certificate",
    "gram_deviation_bound", "distance_scaling", "relative_change_scaling",
    "flip_fraction_scaling", "gram_concentration", "linearized_dynamics",
]  # fmt: skip


@pytest.mark.parametrize("name", STATEMENTS)
def test_statement_holds_in_the_lazy_regime(lazy, name):
    s = lazy.statement(name)
    print(f"{name}: measured {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack})")
    assert s.holds, s


def test_verdict_and_reported_hypotheses(lazy):
    assert lazy.verdict == "holds"
    hyp = {h.name: h for h in lazy.hypotheses}
    assert hyp["lambda_0_positive"].met
    # The theorem's width requirement (~1e19-1e20 at n = 100) is reported unmet, with numbers.
    assert not hyp["width_requirement"].met
    assert lazy.quantities["width_required"] > 1e15
    assert lazy.quantities["R_prime"] / lazy.quantities["max_distance_target"] > 10


def test_exponents_are_close_to_minus_half(lazy):
    for key in ("max_distance", "relative_change", "flip_fraction"):
        exponent = lazy.quantities[f"{key}_exponent"]
        print(f"{key} exponent {exponent:.3f}")
        assert abs(exponent + 0.5) < 0.15


def test_mean_field_negative_control_is_violated(mean_field):
    assert mean_field.verdict == "violated"
    violated = {s.name for s in mean_field.statements if s.holds is False}
    print("violated under mean field:", sorted(violated))
    assert {"distance_scaling", "relative_change_scaling", "flip_fraction_scaling"} <= violated
    assert "linearized_dynamics" in violated
    # Weights move O(1): exponents near 0, far outside -1/2 +- 0.15.
    assert abs(mean_field.quantities["max_distance_exponent"]) < 0.1
    # What does not depend on training still holds: the kernel and the exact certificate.
    assert mean_field.statement("kernel_closed_form").holds
    assert mean_field.statement("flip_certificate").holds
    hyp = {h.name: h for h in mean_field.hypotheses}
    assert not hyp["ntk_parameterization"].met


def test_wrong_kernel_would_be_detected(lazy, monkeypatch):
    """The kernel check can fail: a closed form with theta in place of pi - theta is caught."""
    import sympy as sp

    wrong = sp.lambdify(du2019.theta, du2019.theta / (2 * sp.pi), modules="numpy")
    monkeypatch.setattr(du2019, "_coactivation", wrong)
    report = theorylab.check("near_init", width=64, rungs=2, steps=5, kernel_samples=2000)
    assert report.statement("kernel_closed_form").holds is False


def test_same_seed_same_json_apart_from_timing():
    kw = dict(width=128, rungs=2, steps=30, n=20, d=6, kernel_samples=500)
    a = json.loads(theorylab.check("near_init", seed=7, **kw).to_json())
    b = json.loads(theorylab.check("near_init", seed=7, **kw).to_json())
    c = json.loads(theorylab.check("near_init", seed=8, **kw).to_json())
    for d in (a, b, c):
        d.pop("timing")
    assert a == b
    assert a != c


def test_user_data_file(tmp_path):
    gen = np.random.default_rng(0)
    X = gen.normal(size=(30, 4)) * 3.0  # not unit norm: rescaled and reported
    y = gen.normal(size=30)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    report = theorylab.check(
        "near_init", data=str(tmp_path / "data.npz"), width=256, rungs=3, steps=100
    )
    assert report.quantities["n"] == 30 and report.quantities["d"] == 4
    unit = {h.name: h for h in report.hypotheses}["unit_norm_inputs"]
    assert "rescaled" in unit.detail
    assert report.statement("flip_certificate").holds


def test_parallel_rows_make_the_run_inconclusive(tmp_path):
    X = np.random.default_rng(1).normal(size=(10, 3))
    X[7] = -2.0 * X[2]  # parallel to row 2: lambda_0 = 0
    np.savez(tmp_path / "par.npz", X=X, y=np.ones(10))
    report = theorylab.check("near_init", data=str(tmp_path / "par.npz"), width=64, rungs=2)
    hyp = {h.name: h for h in report.hypotheses}["lambda_0_positive"]
    assert not hyp.met and "parallel rows 2 and 7" in hyp.detail
    assert report.verdict == "inconclusive"


def test_h_inf_closed_form_against_independent_computations():
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    H = du2019.h_inf(X)
    cos = (X @ X.T).clamp(-1, 1)
    sheppard = cos * (0.25 + torch.arcsin(cos) / (2 * math.pi))
    assert torch.allclose(H, sheppard, atol=1e-14)
    for i, j in [(0, 1), (2, 5), (3, 4)]:
        rho = float(cos[i, j])
        orthant = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([0, 0])
        assert float(H[i, j]) == pytest.approx(rho * orthant, abs=1e-6)
    assert torch.allclose(torch.diagonal(H), torch.full((6,), 0.5, dtype=torch.float64))
