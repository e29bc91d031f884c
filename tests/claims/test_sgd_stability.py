"""Tests of the sgd_stability claim: a shortened default run holds; the negative controls
(c_B -> 0 in T; a minimum with a > 2/eta) are reported as violations; bad input, divergence
and unreached minima give the right exit statuses."""

import json
import math
import subprocess
import sys

import pytest
import torch

from theorylab.claims import sgd_stability as claim
from theorylab.data import unit_sphere
from theorylab.errors import UsageError
from theorylab.nets.mlp import init_params, train
from theorylab.registry import check
from theorylab.report import Report
from theorylab.runtime import Context

# The default run, shortened where it does not change what is checked: the edge-of-stability
# run arrives at 2/eta near step 2900 of the default 6000 (3600 keeps ~700 steps at the edge,
# with one catapult), and fewer Monte-Carlo runs only widen the standard errors it uses.
SHORT = dict(eos_steps=3600, runs=2000, escape_steps=200)


@pytest.fixture(scope="module")
def report():
    return check("sgd_stability", **SHORT)


@pytest.fixture(scope="module")
def gd_minimum():
    """The default setting's GD minimum at eta = 0.4 (the one escape and T are tested at)."""
    p = claim.Params()
    ctx = Context(seed=0)
    ds = unit_sphere(p.n, p.d, ctx)
    theta0 = init_params(p.spec, ctx, "init")
    result = train(p.spec, theta0[None], ds.X, ds.y, torch.tensor([p.eta], dtype=torch.float64),
                   [p.n], p.max_steps, torch.Generator(), loss_tol=p.loss_tol)  # fmt: skip
    assert result.reached_at[0] > 0
    m = claim.Minimum("gd", p.eta, p.n, result.theta[0], float(result.loss[-1, 0]), 0)
    claim.measure_curvature(p.spec, m, ds.X, ds.y)
    return p, m, ds


def test_default_run_holds(report):
    assert report.verdict == "holds", report.table()
    names = set(report.statement_names)
    for name in (
        "gd_sharpness_bound",
        "sgd_conditions_sharpness",
        "sgd_conditions_nonuniformity",
        "sgd_conditions_exact",
        "sampling_identity",
        "mean_square_prediction",
        "mean_square_verdicts",
        "escape",
        "escape_control_kept",
        "sharp_minimum_control",
        "edge_of_stability_sharpening",
        "edge_of_stability",
        "edge_of_stability_loss",
    ):
        assert name in names  # fmt: skip
    assert all(h.met for h in report.hypotheses), report.table()


def test_measured_values_are_the_theory_s_findings(report):
    q = report.quantities
    gd_at_eta = [m for m in q["minima"] if m["batch"] == q["n"]][-1]
    # GD at the largest step ends near the edge, a eta / 2 close to 1 (Wu et al. Fig. 2;
    # 0.92 on this seed), far above where it started (a(0) eta / 2 = 0.75)
    assert 0.85 <= gd_at_eta["sharpness"] * gd_at_eta["eta"] / 2 <= 1.0 + claim.SHARPNESS_TOL
    assert report.statement("sampling_identity").measured <= 1e-13
    # the escaped SGD run settles at a flatter, more uniform minimum than the GD one it left
    assert q["escape_settled"]
    assert q["escape_settled_sharpness"] < gd_at_eta["sharpness"]
    assert q["escape_settled_s"] < gd_at_eta["s"]
    assert q["eos_initial_sharpness"] < 0.8 * q["eos_threshold"]


def test_report_round_trips_and_plots(report, tmp_path):
    again = Report.from_json(report.to_json())
    assert again.to_json() == report.to_json()
    path = tmp_path / "sgd_stability.png"
    claim.plot(report, str(path))
    assert path.stat().st_size > 10_000


def test_wrong_batch_factor_is_detected(gd_minimum):
    """Negative control: T with GD's c_B = 0 mispredicts the SGD growth and the check says so."""
    p, m, _ = gd_minimum
    small = claim.Params(runs=2000)
    gen = Context(seed=0).generator("mean_square")
    right = claim.mean_square_statements(m, small, p.n, claim.batch_factor_for("wu2018"), gen,
                                         Report("x", {}, 0, "cpu", "float64"))  # fmt: skip
    gen = Context(seed=0).generator("mean_square")
    wrong = claim.mean_square_statements(m, small, p.n, claim.batch_factor_for("gd"), gen,
                                         Report("x", {}, 0, "cpu", "float64"))  # fmt: skip
    assert [s.holds for s in right] == [True, True]
    assert wrong[0].name == "mean_square_prediction" and wrong[0].holds is False
    assert wrong[0].measured > 2 * claim.MEAN_SQUARE_Z
    # and the stable/unstable verdicts disagree where SGD noise destabilises the minimum
    assert wrong[1].name == "mean_square_verdicts" and wrong[1].holds is False


def test_sharp_minimum_is_predicted_and_measured_unstable(gd_minimum):
    """Negative control: start at a minimum with a > 2/eta (eta 25% past 2/a)."""
    p, m, ds = gd_minimum
    eta_bad = 1.25 * 2 / m.sharpness
    bad = claim.Minimum("gd", eta_bad, p.n, m.theta, m.loss, 0, sharpness=m.sharpness)
    assert claim.sharpness_statement([bad], "gd_sharpness_bound").holds is False
    rho, _ = claim.operator_radius(m.factors, eta_bad, p.n, p.n, claim.wu2018.batch_factor)
    assert rho > 1.2
    ctx = Context(seed=0)
    growth, _ = claim.perturbation_growth(p.spec, m.theta, ds.X, ds.y, eta_bad, p.n, 200, ctx, "a")
    assert growth >= claim.ESCAPE_FACTOR
    # ... and 20% below the threshold the same minimum is kept
    eta_ok = 0.8 * 2 / m.sharpness
    kept, _ = claim.perturbation_growth(p.spec, m.theta, ds.X, ds.y, eta_ok, p.n, 200, ctx, "b")
    assert kept < 2.0


def test_unreached_minimum_is_inconclusive():
    r = check("sgd_stability", max_steps=50)
    assert r.verdict == "inconclusive" and "global minimum" in r.failure
    assert r.failure_step == 50


def test_training_and_monte_carlo_are_deterministic(gd_minimum):
    p, m, ds = gd_minimum
    theta0 = init_params(p.spec, Context(seed=3), "init").expand(2, -1)
    etas = torch.tensor([0.4, 0.4], dtype=torch.float64)

    def sgd():
        return train(p.spec, theta0, ds.X, ds.y, etas, [2, 4], 50,
                     Context(seed=3).generator("batches")).theta  # fmt: skip

    assert torch.equal(sgd(), sgd())
    cov = [torch.eye(m.factors.shape[1], dtype=torch.float64) / m.factors.shape[1]]

    def mc():
        gen = Context(seed=3).generator("mean_square")
        return claim.simulate_second_moment(m.factors, [0.4], [2], cov, 100, 5, gen, 5)

    assert all(torch.equal(a, b) for a, b in zip(mc(), mc(), strict=True))


@pytest.mark.slow
def test_same_seed_same_json():
    def strip(r):
        data = json.loads(r.to_json())
        data.pop("timing")
        return json.dumps(data)

    assert strip(check("sgd_stability", **SHORT)) == strip(check("sgd_stability", **SHORT))


@pytest.mark.parametrize(
    "values, message",
    [({"batch_size": 17}, "batch_size must be <= n"), ({"batch_size": 0}, "batch_size must be >="),
     ({"batch_size": 16}, "SGD ladder needs batch_size < n"),
     ({"eta": 0.0}, "eta must be > 0"), ({"eta": -1.0}, "eta must be > 0"),
     ({"width": 1024, "depth": 4}, "parameters"), ({"n": 2}, "n must be >=")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, message):
    with pytest.raises(UsageError, match=message):
        check("sgd_stability", **values)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "theorylab.check", "sgd_stability", *args],
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_cli_bad_input_exits_2_with_one_line():
    out = _cli("--batch-size", "17")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_cli_divergence_exits_3_with_the_step():
    out = _cli("--eta", "50", "--quiet")
    assert out.returncode == 3
    assert "diverged at step" in out.stderr


def test_cli_negative_control_exits_1():
    # a cheaper ladder (GD at eta only; batches 4, 8) that still has SGD-unstable grid points
    out = _cli("--theory", "gd", "--gd-rungs", "1", "--batch-size", "4", "--eos-steps", "100",
               "--runs", "1000", "--escape-steps", "50", "--quiet", "--json", "-")  # fmt: skip
    assert out.returncode == 1
    data = json.loads(out.stdout)
    verdicts = {s["name"]: s["holds"] for s in data["statements"]}
    assert verdicts["mean_square_prediction"] is False
    assert not math.isnan(data["statements"][0]["measured"])
