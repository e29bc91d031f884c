"""double_descent: exact trace formula, batched solvers, CLI exit statuses, negative control.

Two small module-scoped runs serve most tests: the default check at n = 40 in-process
(expected to hold) and a CLI run with ``--control swap_signal_noise`` (expected to be
violated, exit 1). The trained-net part (about half a minute) runs only in the slow test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from theorylab.claims import double_descent as dd
from theorylab.errors import Inconclusive, UsageError
from theorylab.registry import check, get_claim, make_params
from theorylab.report import Report
from theorylab.runtime import Context
from theorylab.theory import wishart

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--n", "40", "--designs", "80", "--sample-designs", "800", "--no-trained-net"]


def _cli(*args: str, tmp: Path | None = None) -> tuple[subprocess.CompletedProcess, Report | None]:
    json_args = ["--json", str(tmp / "report.json")] if tmp is not None else []
    proc = subprocess.run(
        [sys.executable, "-m", "theorylab.check", "double_descent", *args, *json_args, "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    report = None
    if tmp is not None and (tmp / "report.json").exists():
        report = Report.from_json((tmp / "report.json").read_text())
    return proc, report


@pytest.fixture(scope="module")
def small_run():
    """The small default check in-process (the CLI path is exercised by the control run)."""
    report = check("double_descent", n=40, designs=80, sample_designs=800, trained_net=False)
    return report.exit_status, report


@pytest.fixture(scope="module")
def swapped_run(tmp_path_factory):
    # smaller than SMALL: the swapped references are far off, so few designs resolve them
    args = ["--n", "40", "--designs", "40", "--sample-designs", "200", "--no-trained-net"]
    return _cli(*args, "--control", "swap_signal_noise", tmp=tmp_path_factory.mktemp("swap"))


# --- exact tier: the conditional risk formula and the solvers ---------------------------------


@pytest.mark.parametrize("n, p", [(30, 12), (12, 30)])
@pytest.mark.parametrize("ridge", [0.0, 0.3])
def test_conditional_risk_equals_explicit_estimator(n, p, ridge):
    """DesignSpectra.risk = ||B X beta - beta||^2 + s2 ||B||_F^2 with B the explicit estimator
    matrix (pinv(X), or (X^T X + n lambda I)^{-1} X^T): the noise average of ||B y - beta||^2."""
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(4, n, p, generator=gen, dtype=torch.float64)
    beta = torch.randn(p, generator=gen, dtype=torch.float64)
    s2 = 0.7
    got = dd.spectra(X, beta).risk(s2, ridge)
    for r in range(4):
        if ridge == 0:
            B = torch.linalg.pinv(X[r])
        else:
            B = torch.linalg.solve(X[r].T @ X[r] + n * ridge * torch.eye(p, dtype=X.dtype), X[r].T)
        want = (B @ X[r] @ beta - beta).pow(2).sum() + s2 * B.pow(2).sum()
        assert float(got[r]) == pytest.approx(float(want), rel=1e-10)


def test_min_norm_solve_is_pinv_and_gradient_descent_limit():
    """pinv(X) y from the batched normal equations; GD from zero on 1/2||y - Xb||^2 ends there."""
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(2, 8, 20, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 8, generator=gen, dtype=torch.float64)
    beta_hat = dd._min_norm_solve(X, y)
    for r in range(2):
        assert torch.allclose(beta_hat[r], torch.linalg.pinv(X[r]) @ y[r], atol=1e-10)
    b = torch.zeros(20, dtype=torch.float64)
    step = 1.0 / float(torch.linalg.matrix_norm(X[0], ord=2) ** 2)
    for _ in range(20000):
        b = b - step * X[0].T @ (X[0] @ b - y[0])
    assert torch.allclose(b, beta_hat[0], atol=1e-8)


def test_monte_carlo_mean_matches_wishart_formula_small():
    """Statistical tier: 4000 designs at n = 30, p = 20 and p = 45, within 4 SE of the formula."""
    ctx = Context(seed=11)
    for p in (20, 45):
        beta = dd.unit_direction(ctx, p, 1.0, "b")
        spec = dd.spectra(ctx.randn(4000, 30, p, stream=f"x{p}"), beta)
        mean, se = dd.mean_and_se(spec.risk(0.5))
        exact = wishart.risk(30, p, 1.0, 0.5)
        print(f"p={p}: mean {mean:.5f} +- {se:.2g}, exact {exact:.5f}")
        assert abs(mean - exact) <= 4 * se


def test_float32_near_threshold_raises_inconclusive():
    ctx = Context(dtype="float32")
    X = ctx.randn(20, 200, 196, stream="x")
    with pytest.raises(Inconclusive, match="condition number"):
        dd.spectra(X, ctx.to(torch.ones(196)))


def test_model_wise_part_is_deterministic():
    p = make_params(get_claim("double_descent"), {"n": 40, "designs": 20})
    outs = []
    for _ in range(2):
        report = Report(claim="double_descent", params={}, seed=0, device="cpu", dtype="float64")
        dd._model_wise(p, Context(seed=4), report, *p.references)
        outs.append(json.dumps(report.to_dict()["series"], sort_keys=True))
    assert outs[0] == outs[1]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"n": 1}, "n must be >= 2"),
        ({"n": 10}, "n must be >= 20"),
        ({"noise": -1.0}, "noise must be >= 0"),
        ({"n": 40, "p_grid": "20,40"}, "infinite"),
        ({"n": 40, "p_grid": "41"}, "infinite"),
        ({"n": 40, "p_grid": "42"}, "variance is infinite"),
        ({"n": 40, "p_grid": "10,x"}, "comma-separated integers"),
        ({"n": 40, "p_grid": "0,10"}, ">= 1"),
        ({"weak_n": 10, "weak_d": 12}, "no ladder point"),
    ],
)
def test_bad_input_is_a_usage_error(values, message):
    with pytest.raises(UsageError, match=message):
        check("double_descent", **values)


def test_memory_estimate_rejects_huge_runs():
    with pytest.raises(UsageError, match="memory"):
        check("double_descent", n=20000, designs=100000)


def test_cli_bad_input_exit_2_one_line():
    proc, _ = _cli("--n", "40", "--p-grid", "40")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "threshold" in lines[0], proc.stderr


def test_cli_float32_at_threshold_is_inconclusive_exit_3():
    proc, _ = _cli("--n", "200", "--p-grid", "196", "--designs", "10", "--dtype", "float32")
    assert proc.returncode == 3, proc.stderr
    assert "condition number" in proc.stderr


# --- the default check (small) and the negative control --------------------------------------


def test_small_run_holds_with_series(small_run):
    status, report = small_run
    print(report.table())
    assert status == 0
    assert report.verdict == "holds"
    series = report.series
    assert series["p"] == make_params(get_claim("double_descent"), {"n": 40}).ladder
    for key in ("risk_measured", "risk_se", "risk_exact"):
        assert len(series[key]) == len(series["p"])
    # the measured curve is a double descent: it rises to the threshold and falls past it
    under = [r for p, r in zip(series["p"], series["risk_measured"], strict=True) if p < 40]
    over = [r for p, r in zip(series["p"], series["risk_measured"], strict=True) if p > 40]
    assert under[-1] > under[0] and over[0] > over[-1]
    names = set(report.statement_names)
    assert {"finite_sample_risk", "asymptotic_risk", "ridge_risk", "ridge_optimal_lambda",
            "second_descent", "weak_features_risk", "samplewise_more_data_hurts",
            "samplewise_matches_formula", "samplewise_optimal_ridge_monotone",
            "random_features_risk", "random_features_peak", "interpolation_threshold",
            "interpolation_zero_training_error", "interpolation_peak_ratio"} <= names  # fmt: skip


def test_swapped_signal_and_noise_is_reported_violated(swapped_run):
    proc, report = swapped_run
    assert report is not None, proc.stderr
    assert proc.returncode == 1, proc.stderr
    violated = {s.name for s in report.statements if s.holds is False}
    print("violated:", sorted(violated))
    assert {"finite_sample_risk", "asymptotic_risk", "ridge_risk", "ridge_optimal_lambda",
            "weak_features_risk", "samplewise_matches_formula",
            "random_features_risk"} <= violated  # fmt: skip
    # the measurement itself does not depend on the control: only the references move
    assert report.statement("finite_sample_risk").measured > 10 * dd.Z_LIMIT


def test_classical_u_curve_control_is_violated():
    """The classical prediction (risk keeps rising past p = n) fails on the measured curve."""
    p = make_params(get_claim("double_descent"), {"n": 40, "designs": 80,
                                                  "control": "classical_u_curve"})  # fmt: skip
    report = Report(claim="double_descent", params={}, seed=0, device="cpu", dtype="float64")
    dd._model_wise(p, Context(seed=0), report, *p.references)
    statement = report.statement("classical_u_curve")
    print(statement.measured, statement.detail)
    assert statement.holds is False
    assert "second_descent" not in report.statement_names


def test_second_descent_not_claimed_without_noise():
    """With s2 = 0 the exact curve rises past n: the hypothesis is reported unmet, no statement."""
    p = make_params(get_claim("double_descent"), {"n": 40, "designs": 30, "noise": 0.0})
    report = Report(claim="double_descent", params={}, seed=0, device="cpu", dtype="float64")
    dd._model_wise(p, Context(seed=0), report, *p.references)
    assert "second_descent" not in report.statement_names
    hyp = {h.name: h for h in report.hypotheses}["second_descent_predicted"]
    assert hyp.met is False


def test_figure_is_written_also_from_json(small_run, tmp_path):
    """The figure draws from the run and from its JSON round trip (inf written as "inf")."""
    for name, report in (("run", small_run[1]), ("json", Report.from_json(small_run[1].to_json()))):
        path = tmp_path / f"{name}.png"
        get_claim("double_descent").plot(report, str(path))
        assert path.stat().st_size > 10_000


def test_swap_control_measures_the_same_curve():
    """Only the references move under the control: same seed, same measured curve."""
    series = []
    for control in ("none", "swap_signal_noise"):
        p = make_params(get_claim("double_descent"), {"n": 40, "designs": 20, "control": control})
        report = Report(claim="double_descent", params={}, seed=0, device="cpu", dtype="float64")
        dd._model_wise(p, Context(seed=0), report, *p.references)
        series.append(report.series)
    assert series[0]["risk_measured"] == series[1]["risk_measured"]
    assert series[0]["risk_exact"] != series[1]["risk_exact"]


@pytest.mark.slow
def test_default_run_holds_including_trained_net(tmp_path):
    proc, report = _cli(tmp=tmp_path)
    assert report is not None, proc.stderr
    print(report.table())
    assert proc.returncode == 0
    assert report.statement("trained_net_peak").holds
    assert math.isfinite(report.statement("trained_net_noise_raises_peak").measured)
