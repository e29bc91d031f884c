"""implicit_bias: GD/SGD against the SVD closed form, the Adam negative control, the diagonal
net against the independent Q_alpha solution, divergence, bad input, determinism and the CLI."""

import json
import math
import subprocess
import sys

import pytest
import torch

import theorylab
from theorylab.claims import implicit_bias
from theorylab.errors import UsageError
from theorylab.theory import min_norm, woodworth2020

SMALL = dict(alpha_small=0.03, path_points=4)
# The Adam control with a cheap diagonal part (alpha = 1 converges in a few thousand steps).
CONTROL = dict(optimizer="adam", alpha=1.0, alpha_small=0.1, path_points=2, steps=2000)
# A cheap run for the detection and bad-input tests (GD only, short).
CONTROL_DIAGONAL = dict(alpha=1.0, alpha_small=0.1, path_points=2, steps=300)


@pytest.fixture(scope="module")
def small():
    return theorylab.check("implicit_bias", seed=0, **SMALL)


@pytest.fixture(scope="module")
def adam_control():
    return theorylab.check("implicit_bias", seed=0, **CONTROL)


@pytest.mark.parametrize(
    "name",
    ["gd_closed_form", "gd_min_norm_limit", "sgd_row_space_invariant", "sgd_min_norm_limit",
     "step_size_exponent", "rich_regime_l1_excess", "kernel_regime_l2_distance"],
)  # fmt: skip
def test_statement_holds(small, name):
    s = small.statement(name)
    print(f"{name}: measured {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack})")
    assert s.holds, s


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


def test_figure_is_written(small, tmp_path):
    path = tmp_path / "implicit_bias.png"
    implicit_bias.CLAIM.plot(small, str(path))
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


def test_wrong_closed_form_is_detected(monkeypatch):
    """A closed form with contraction 1 - 2 eta s^2 instead of 1 - eta s^2 is caught."""
    original = min_norm.gd_iterates
    monkeypatch.setattr(
        min_norm, "gd_iterates", lambda A, b, x0, eta, k: original(A, b, x0, 2 * eta, k)
    )
    report = theorylab.check("implicit_bias", seed=0, optimizer="gd", **CONTROL_DIAGONAL)
    assert report.statement("gd_closed_form").holds is False


def test_a_wrong_q_alpha_solution_is_detected(monkeypatch):
    """If the reference were the min-l2 solution instead of argmin Q_alpha, GD's discrepancy
    would not shrink with the step: the exponent statement fails."""
    real = woodworth2020.solve_q_alpha

    def l2_instead(X, y, a):
        sol = real(X, y, a)
        return woodworth2020.QAlphaSolution(torch.linalg.pinv(X) @ y, sol.nu, 0, 0.0)

    monkeypatch.setattr(woodworth2020, "solve_q_alpha", l2_instead)
    report = theorylab.check("implicit_bias", seed=0, optimizer="gd", **CONTROL_DIAGONAL)
    s = report.statement("step_size_exponent")
    print("exponent against the wrong reference:", s.measured)
    assert s.holds is False and abs(s.measured) < 0.3


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


def test_same_seed_same_json():
    first = theorylab.check("implicit_bias", seed=2, optimizer="gd", **CONTROL_DIAGONAL)
    second = theorylab.check("implicit_bias", seed=2, optimizer="gd", **CONTROL_DIAGONAL)
    a, b = first.to_dict(), second.to_dict()
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a) == json.dumps(b)


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


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "theorylab.check", "implicit_bias", *args, "--quiet"],
        capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": ""}, timeout=300,
    )  # fmt: skip


def test_cli_exit_statuses():
    bad = _cli("--rank", "5", "--target", "random")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "inconsistent system" in bad.stderr
    control = _cli("--optimizer", "adam", "--alpha", "1", "--alpha-small", "0.1",
                   "--path-points", "2", "--steps", "2000")  # fmt: skip
    assert control.returncode == 1, control.stderr
    divergent = _cli("--eta", "1", "--optimizer", "gd", "--alpha", "1", "--alpha-small", "0.1",
                     "--path-points", "2", "--steps", "300")  # fmt: skip
    assert divergent.returncode == 3
    assert "diverged" in divergent.stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
def test_default_run_holds_across_seeds(seed):
    """Statistical tier: the default run holds for other seeds (measured slacks logged)."""
    report = theorylab.check("implicit_bias", seed=seed)
    for s in report.statements:
        print(f"seed {seed} {s.name}: {s.measured:.4g} {s.relation} {s.reference} slack {s.slack}")
    assert report.verdict == "holds"
