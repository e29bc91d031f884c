"""Claim pruning: statements hold at small settings, the negative controls are reported as
violations, bad input exits 2, a censored ladder is inconclusive (exit 3), runs are
reproducible."""

import json
import math
import subprocess
import sys

import pytest

from theorylab import UsageError, check
from theorylab.claims import pruning
from theorylab.report import Report

SMALL = dict(test_points=2000, ascent_steps=40, ladder_trials=400, ladder_rungs=5,
             size_trials=16, size_rungs=3)  # fmt: skip


@pytest.fixture(scope="module")
def report():
    return check("pruning", seed=0, **SMALL)


def test_every_statement_holds(report):
    assert report.verdict == "holds", report.table()
    assert set(report.statement_names) == {
        "sup_error_bound", "error_propagation_bound", "propagation_pointwise", "depth_doubling",
        "subset_sum_log_scaling", "single_product_power_law", "single_product_prediction",
        "log_beats_power", "width_vs_target_size",
    }  # fmt: skip


def test_sup_error_within_eps_and_the_propagation_bound(report):
    s = report.statement("sup_error_bound")
    assert 0 < s.measured <= report.params["eps"]
    bound = report.statement("error_propagation_bound")
    assert bound.measured == s.measured and bound.reference >= s.measured
    assert report.quantities["sup_error"] >= report.quantities["sup_error_test_set"]


def test_depth_and_kept_weights(report):
    assert report.statement("depth_doubling").measured == 2 * report.params["depth"]
    q = report.quantities
    assert q["kept_weights"] == pytest.approx(q["keep_fraction"] * q["total_weights"])
    assert 0 < q["keep_fraction"] < 1


def test_the_two_laws(report):
    q = report.quantities
    assert 1 <= q["subset_sum_log2_slope"] <= 3
    assert abs(q["single_product_power_exponent"] - 1) < 0.15
    assert q["subset_sum_power_exponent"] < 0.3 < q["single_product_power_exponent"]


def test_negative_control_too_few_candidates_is_violated():
    r = check("pruning", candidates=4, scaling=False, test_points=2000, ascent_steps=40)
    s = r.statement("sup_error_bound")
    assert s.holds is False and s.measured > r.params["eps"], r.table()
    assert r.verdict == "violated"
    hyp = {h.name: h for h in r.hypotheses}
    assert not hyp["every_gadget_within_tolerance"].met
    # the propagation bound still holds: the failure is the subset sums', not the derivation's
    assert r.statement("error_propagation_bound").holds


def test_single_product_at_default_width_is_violated():
    r = check("pruning", construction="single_product", scaling=False, test_points=2000,
              ascent_steps=40)  # fmt: skip
    assert r.statement("sup_error_bound").holds is False, r.table()


def test_log_statement_rejects_a_power_law():
    """Fed the single-product needs in the subset-sum slot, the logarithmic law fails."""
    eps = [0.1 / 2**k for k in range(5)]
    power = [48, 97, 195, 392, 785]
    q = {}
    statements = pruning.ladder_statements(eps, power, power, power, 0.9, q)
    log = next(s for s in statements if s.name == "subset_sum_log_scaling")
    ordering = next(s for s in statements if s.name == "log_beats_power")
    assert log.holds is False and ordering.holds is True  # ratio exactly 1
    flat = [20, 21, 22, 24, 26]
    single = next(s for s in pruning.ladder_statements(eps, flat, flat, power, 0.9, q)
                  if s.name == "single_product_power_law")  # fmt: skip
    assert single.holds is False  # a logarithmic curve is not the predicted power law


def test_size_statement_rejects_polynomial_width():
    rep = Report(claim="pruning", params={}, seed=0, device="cpu", dtype="float64")
    poly = pruning.size_statement([2, 4, 8], 2, [40, 80, 160], [0.01] * 3, rep)
    log = pruning.size_statement([2, 4, 8], 2, [30, 33, 36], [0.01] * 3, rep)
    assert poly.holds is False and log.holds is True


def test_censored_ladder_gives_nan_not_a_pass():
    eps = [0.1 / 2**k for k in range(4)]
    statements = pruning.ladder_statements(eps, [20, 22, math.inf, 26], [48, 97, 195, 392],
                                           [48, 97, 195, 392], 0.9, {})  # fmt: skip
    by_name = {s.name: s for s in statements}
    assert by_name["subset_sum_log_scaling"].holds is None
    assert by_name["log_beats_power"].holds is None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "theorylab.check", "pruning", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize("values", [
    {"eps": 0.0}, {"eps": 1.0}, {"eps": 1.5}, {"depth": 0}, {"input_dim": 0},
    {"target_width": -3}, {"candidates": 0}, {"construction": "greedy"},
    {"candidates": 90, "subset_search": "meet_in_the_middle"},  # ~2^45 half sums: memory
])  # fmt: skip
def test_bad_input_is_a_usage_error(values):
    with pytest.raises(UsageError) as info:
        check("pruning", **values)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("args", [["--eps", "0"], ["--candidates", "90", "--subset-search",
                                                   "meet_in_the_middle"]])  # fmt: skip
def test_cli_bad_input_exits_2_with_one_line(args):
    res = _cli(*args)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_cli_negative_control_exits_1():
    res = _cli("--candidates", "4", "--no-scaling", "--test-points", "2000",
               "--ascent-steps", "20")  # fmt: skip
    assert res.returncode == 1, res.stdout + res.stderr
    assert "sup_error_bound" in res.stdout


def test_cli_censored_size_ladder_exits_3(tmp_path):
    res = _cli("--size-max-candidates", "8", "--size-trials", "5", "--size-rungs", "3",
               "--ladder-trials", "400", "--ladder-rungs", "3", "--test-points", "500",
               "--ascent-steps", "10", "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert res.returncode == 3, res.stdout + res.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    width = next(s for s in data["statements"] if s["name"] == "width_vs_target_size")
    assert width["holds"] is None


def test_same_seed_same_json():
    a = check("pruning", scaling=False, test_points=500, ascent_steps=10, seed=3).to_dict()
    b = check("pruning", scaling=False, test_points=500, ascent_steps=10, seed=3).to_dict()
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a) == json.dumps(b)


def test_figure_is_written(report, tmp_path):
    path = tmp_path / "pruning.png"
    pruning.plot(report, str(path))
    assert path.stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_default_run_holds_across_seeds(seed):
    r = check("pruning", seed=seed)
    assert r.verdict == "holds", r.table()
