"""implicit_bias: the quick run's statements and power labels, the Adam negative control, the
declared power table, GD/SGD against the SVD closed form and explicit loops, the diagonal net
against the independent Q_alpha solution, compare() on hand-made measurements, divergence and
bad input."""

import dataclasses
import math

import numpy as np
import pytest
import torch

import theorylab
from theorylab.claims import implicit_bias
from theorylab.errors import UsageError
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context
from theorylab.theory import min_norm, woodworth2020

CLAIM = get_claim("implicit_bias")
# A cheap run for the detection and bad-input tests (GD only, short).
CONTROL_DIAGONAL = dict(alpha=1.0, alpha_small=0.1, path_points=2, steps=300)
POWER = {
    "gd_closed_form": "exact", "gd_min_norm_limit": "exact", "sgd_row_space_invariant": "exact",
    "sgd_min_norm_limit": "exact", "step_size_exponent": "interval",
    "rich_regime_l1_excess": "bound", "kernel_regime_l2_distance": "sanity",
    "kernel_regime_offset": "interval",
}  # fmt: skip


@pytest.fixture(scope="module")
def quick_params():
    return make_params(CLAIM, CLAIM.quick)


@pytest.fixture(scope="module")
def measurement(theorylab_cache):
    return theorylab_cache.measurement("implicit_bias", seed=0, **CLAIM.quick)  # the quick run's


@pytest.fixture(scope="module")
def small(theorylab_cache):
    return theorylab_cache.run("implicit_bias", seed=0, **CLAIM.quick)  # shared with the contract


@pytest.fixture(scope="module")
def adam_control(theorylab_cache):
    return theorylab_cache.run("implicit_bias", seed=0, **{**CLAIM.quick, **CLAIM.negative_control})


@pytest.mark.parametrize("name", list(POWER))
def test_statement_holds_with_its_power_label(small, name):
    s = small.statement(name)
    print(f"{name}: measured {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack})")
    assert s.holds, s
    assert s.power == POWER[name]


def test_declared_power_table(theorylab_cache):
    audit = theorylab_cache.audit("implicit_bias")
    print(audit.table())
    assert audit.baseline_verdict == "holds" and audit.exit_status == 0
    flipped = {m.name: set(m.flipped) for m in audit.mutants}
    assert {"gd_min_norm_limit", "sgd_min_norm_limit"} <= flipped["limit_without_projection"]
    assert flipped["potential_link_without_two"] == {"step_size_exponent"}
    assert flipped["kernel_offset_halved"] == {"kernel_regime_offset"}
    assert flipped["contraction_double_step"] == {"gd_closed_form"}


def test_verdict_hypotheses_and_quantities(small):
    assert small.verdict == "holds"
    assert all(h.met for h in small.hypotheses if h.required), small.hypotheses
    # GD at finite steps is not the theorem's gradient flow: reported as such.
    assert [h.name for h in small.hypotheses if not h.met] == ["gradient_flow"]
    q = small.quantities
    assert q["eta"] < q["eta_limit"] == pytest.approx(2 / q["sigma_max"] ** 2)
    # Every GD/SGD iterate within 1e-8 (the float64 tolerance); measured ~1e-15.
    assert small.statement("gd_closed_form").measured < 1e-12
    # The path moves from near min-l1 (small alpha) to min-l2 (large alpha).
    dg = small.series["diagonal"]
    assert dg["dist_l1"][0] < dg["dist_l1"][-1] and dg["dist_l2"][-1] < dg["dist_l2"][0]
    assert dg["l1_gd"][0] < dg["l1_gd"][-1] and dg["l2_gd"][-1] < dg["l2_gd"][0]


def test_figure_is_drawn_from_the_saved_report_alone(small, tmp_path):
    from theorylab.plots.implicit_bias import plot
    from theorylab.report import Report

    path = tmp_path / "implicit_bias.png"
    plot(Report.from_json(small.to_json()), str(path))
    assert path.stat().st_size > 10_000


def test_adam_negative_control_reports_the_distance(adam_control):
    s = adam_control.statement("adam_min_norm_limit")
    print(f"Adam: ||x_K - x_min|| / ||x_min|| = {s.measured:.3g}; {s.detail}")
    assert adam_control.verdict == "violated"
    assert s.holds is False and s.measured > 0.05
    assert adam_control.quantities["adam_residual"] < 1e-6  # it interpolates, elsewhere
    assert [x.name for x in adam_control.statements if x.holds is False] == ["adam_min_norm_limit"]


def test_gd_closed_form_matches_an_explicit_loop():
    """Exact tier: the SVD closed form against the plain iteration, rank-deficient A."""
    g = torch.Generator().manual_seed(1)
    A = torch.randn(6, 3, generator=g, dtype=torch.float64) @ torch.randn(
        3, 9, generator=g, dtype=torch.float64
    )
    b = A @ torch.randn(9, generator=g, dtype=torch.float64)
    x0 = torch.randn(9, generator=g, dtype=torch.float64)
    eta = 1.0 / float(torch.linalg.matrix_norm(A, ord=2)) ** 2
    closed = min_norm.gd_iterates(A, b, x0, eta, 40)
    x = x0.clone()
    for k in range(41):
        assert float((closed[k] - x).norm()) < 1e-10 * float(x.norm()), k
        x = x - eta * A.T @ (A @ x - b)
    limit = min_norm.min_norm_limit(A, b, x0)
    lstsq = torch.linalg.lstsq(A, b[:, None], driver="gelsd").solution[:, 0]  # min-norm
    P = torch.linalg.pinv(A) @ A
    assert torch.allclose(limit, lstsq + x0 - P @ x0, atol=1e-10)
    assert torch.allclose(min_norm.min_norm_limit(A, b, torch.zeros(9, dtype=A.dtype)), lstsq,
                          atol=1e-10)  # fmt: skip


def test_sgd_against_an_explicit_loop_over_the_same_batches():
    """Every SGD iterate of the batched runs equals a plain loop over one run's batches."""
    p = make_params(CLAIM, dict(n=6, d=10, steps=25, sgd_runs=3, batch_size=2))
    ctx = Context(seed=4)
    A, b, _, x0 = implicit_bias.make_system(p, ctx)
    path, eta_sgd = implicit_bias.sgd(p, ctx, A, b, x0, A)
    gen = ctx.generator("sgd/batches")
    batches = torch.argsort(torch.rand(p.steps, 3, p.n, generator=gen), dim=2)[:, :, :2]
    for run in range(3):
        x = x0.clone()
        for k in range(p.steps):
            rows = batches[k, run]
            x = x - eta_sgd * (p.n / 2) * A[rows].T @ (A[rows] @ x - b[rows])
            torch.testing.assert_close(path[k + 1, run], x, rtol=0, atol=1e-13)


def test_compare_catches_an_iterate_off_the_row_space(measurement, quick_params):
    """A drift of 1e-6 along null(A) in one SGD iterate fails the row-space invariant."""
    A = measurement.A
    null = np.linalg.svd(A)[2][-1]  # a unit vector of null(A)
    path = measurement.sgd_path.copy()
    path[7, 1] += 1e-6 * null
    broken = dataclasses.replace(measurement, sgd_path=path)
    statements = {s.name: s for s in implicit_bias.compare(broken, quick_params).statements}
    assert statements["sgd_row_space_invariant"].holds is False
    assert statements["sgd_min_norm_limit"].holds is True  # the last iterate is untouched


def test_divergent_step_size_is_inconclusive():
    report = theorylab.check("implicit_bias", eta=1.0, optimizer="gd", **CONTROL_DIAGONAL)
    assert report.verdict == "inconclusive"
    assert "diverged" in report.failure and "2/sigma_max^2" in report.failure
    assert report.failure_step is not None and report.failure_step > 0


@pytest.mark.parametrize(
    "values, fragment",
    [(dict(n=0), "n must be >= 1"), (dict(rank=10, target="random"), "inconsistent system"),
     (dict(n=60, d=50), "underdetermined"), (dict(eta=-1.0), "eta must be > 0"),
     (dict(batch_size=30), "batch_size 30 exceeds n"),
     (dict(alpha_small=1.0, alpha_large=0.5), "alpha_small"),
     (dict(optimizer="lbfgs"), "optimizer must be one of")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        theorylab.check("implicit_bias", **values)


def test_rank_deficient_planted_system_is_handled():
    report = theorylab.check("implicit_bias", rank=10, optimizer="gd", **CONTROL_DIAGONAL)
    assert report.quantities["rank"] == 10
    assert report.statement("gd_closed_form").holds
    assert {h.name: h.met for h in report.hypotheses}["dual_newton_converged"]


def test_train_diagonal_large_alpha_is_the_kernel_regime():
    """At alpha = 30 the diagonal net's limit is the min-l2 solution up to the explicit bound."""
    g = torch.Generator().manual_seed(7)
    X = torch.randn(5, 12, generator=g, dtype=torch.float64)
    y = X @ torch.randn(12, generator=g, dtype=torch.float64)
    alphas = torch.tensor([30.0], dtype=torch.float64)
    curvature = 8 * 30.0**2 * float(torch.linalg.matrix_norm(X, ord=2)) ** 2
    etas = torch.tensor([0.5 / curvature], dtype=torch.float64)
    beta, _, converged = implicit_bias.train_diagonal(X, y, alphas, etas, 1e-10, 200000)
    assert bool(converged.all())
    distance = float((beta[:, 0] - torch.linalg.pinv(X) @ y).norm())
    bound = woodworth2020.kernel_distance_bound(beta[:, 0], 30.0)
    assert distance <= bound and bound < 1e-4 * math.sqrt(12)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
def test_default_run_holds_across_seeds(seed):
    """Statistical tier: the default run holds for other seeds (measured slacks logged)."""
    report = theorylab.check("implicit_bias", seed=seed)
    for s in report.statements:
        print(f"seed {seed} {s.name}: {s.measured:.4g} {s.relation} {s.reference} slack {s.slack}")
    assert report.verdict == "holds"
