"""double_descent as a whole: parameters, the quick run, both negative controls, overflow,
the figure, the power table, and the two simulation lanes. The contract every claim keeps
(--help, bad options exit 2, determinism, JSON round trip) is tests/test_contract.py's."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import theorylab.claims.double_descent as dd
from theorylab.check import main
from theorylab.errors import UsageError
from theorylab.registry import check, get_claim, make_params
from theorylab.report import Report
from theorylab.runtime import Context
from theorylab.theory import wishart

CLAIM = get_claim("double_descent")
STATEMENTS = {
    "finite_sample_risk", "asymptotic_risk", "second_descent", "second_descent_size",
    "ridge_risk", "ridge_optimal_lambda", "weak_features_risk", "samplewise_more_data_hurts",
    "samplewise_matches_formula", "samplewise_optimal_ridge_monotone", "random_features_risk",
    "random_features_peak", "interpolation_threshold", "interpolation_zero_training_error",
    "interpolation_peak_ratio",
}  # fmt: skip


@pytest.mark.parametrize(
    "values, message",
    [
        ({"n": 1}, "n must be >= 2"),
        ({"n": 10}, "n must be >= 20"),
        ({"noise": -1.0}, "noise must be >= 0"),
        ({"signal": 0.0, "noise": 0.0}, "nothing to check"),
        ({"n": 40, "p_grid": "20,40"}, "infinite"),
        ({"n": 40, "p_grid": "41"}, "infinite"),
        ({"n": 40, "p_grid": "42"}, "variance is infinite"),
        ({"n": 40, "p_grid": "10,x"}, "must be an integer"),
        ({"n": 40, "p_grid": "10,,20"}, "empty value"),
        ({"n": 40, "p_grid": "0,10"}, ">= 1"),
        ({"weak_n": 10, "weak_d": 12}, "no ladder point"),
    ],
)
def test_bad_input_is_a_usage_error(values, message):
    with pytest.raises(UsageError, match=message):
        make_params(CLAIM, values)


def test_memory_estimate_rejects_huge_runs():
    with pytest.raises(UsageError, match="memory"):
        check("double_descent", n=20000, designs=100000)


def test_mirrored_constants_agree_with_their_modules():
    """__init__ repeats a few constants so validate() needs no heavy import."""
    from theorylab.claims.double_descent import model_wise, ridge, sample_wise, weak_features

    assert dd.INFINITE_RISK_GAP == wishart.INFINITE_RISK_GAP
    assert dd.MIN_GAP_FINITE_VARIANCE == wishart.MIN_GAP_FINITE_VARIANCE
    assert dd.DEFAULT_GAMMAS == model_wise.DEFAULT_GAMMAS
    assert dd.WEAK_FRACTIONS == weak_features.WEAK_FRACTIONS
    assert dd.RIDGE_GAMMAS == ridge.RIDGE_GAMMAS
    assert (dd.SAMPLE_D, dd.SAMPLE_N_MAX) == (sample_wise.SAMPLE_D, max(sample_wise.SAMPLE_N_GRID))
    p = make_params(CLAIM, {"n": 40})
    assert p.weak_ladder == weak_features.weak_ladder(p.weak_n, p.weak_d)


def test_quick_run_holds_with_every_statement(theorylab_cache):
    report = theorylab_cache.run("double_descent", **CLAIM.quick)
    print(report.table())
    assert report.verdict == "holds"
    assert STATEMENTS <= set(report.statement_names)
    series = report.series
    assert series["p"] == make_params(CLAIM, CLAIM.quick).ladder
    under = [r for p, r in zip(series["p"], series["risk_measured"], strict=True) if p < 40]
    over = [r for p, r in zip(series["p"], series["risk_measured"], strict=True) if p > 40]
    assert under[-1] > under[0] and over[0] > over[-1]  # a double descent, measured


def test_swapped_signal_and_noise_is_violated_where_the_references_enter(theorylab_cache):
    report = theorylab_cache.run("double_descent", **{**CLAIM.quick, **CLAIM.negative_control})
    assert report.exit_status == 1
    violated = {s.name for s in report.statements if s.holds is False}
    print("violated:", sorted(violated))
    assert {"finite_sample_risk", "asymptotic_risk", "ridge_risk", "ridge_optimal_lambda",
            "weak_features_risk", "samplewise_matches_formula",
            "random_features_risk"} <= violated  # fmt: skip
    quick = theorylab_cache.run("double_descent", **CLAIM.quick)
    assert report.series["risk_measured"] == quick.series["risk_measured"]  # same measurement


def test_classical_u_curve_control_exits_1(theorylab_cache):
    report = theorylab_cache.run(
        "double_descent", **{**CLAIM.quick, "control": "classical_u_curve"}
    )
    assert report.exit_status == 1
    assert [s.name for s in report.statements if s.holds is False] == ["classical_u_curve"]


@pytest.mark.parametrize("option", ["--signal", "--sample-noise"])
def test_overflow_is_inconclusive_naming_the_quantity(option, capsys):
    """--signal 1e300: the squared risks overflow float64; exit 3 with one line, never a
    verdict (it was exit 1 with a NaN statement and an infinite standard error). The same for
    --sample-noise 1e300 (whose ridge shift once overflowed a Python float: exit 4)."""
    argv = ["double_descent", "--n", "40", "--designs", "20", "--sample-designs", "50",
            "--no-trained-net", option, "1e300", "--quiet"]  # fmt: skip
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 3, err
    assert "not finite" in err and "risk" in err and err.count("\n") == 1


def test_figure_from_the_report_and_its_json(theorylab_cache, tmp_path):
    from theorylab.plots.double_descent import plot

    report = theorylab_cache.run("double_descent", **CLAIM.quick)
    for name, r in (("run", report), ("json", Report.from_json(report.to_json()))):
        path = tmp_path / f"{name}.png"
        plot(r, str(path))
        assert path.stat().st_size > 10_000
    partial = Report.from_json(report.to_json())
    partial.series.pop("samplewise")
    plot(partial, str(tmp_path / "partial.png"))  # a missing panel says so


def _same(a, b, where="measurement") -> None:
    """Exact equality of two measurements (dataclasses, dicts, lists, arrays, numbers)."""
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, list) and a and dataclasses.is_dataclass(a[0]):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), where
    else:
        assert a == b, where


def test_two_lanes_give_the_same_measurement(monkeypatch):
    p = make_params(CLAIM, {"n": 40, "designs": 5, "sample_designs": 20, "trained_net": False})
    concurrent = dd.simulate(p, Context(seed=2))
    monkeypatch.setattr(dd, "CONCURRENT", False)
    _same(concurrent, dd.simulate(p, Context(seed=2)))


def test_one_mutant_is_caught_by_the_audit(theorylab_cache):
    """The cheap end of the power table (the whole table is the slow test below)."""
    result = theorylab_cache.audit("double_descent", mutants=["wishart_moment_off_by_one"])
    assert result.baseline_verdict == "holds"
    (row,) = result.mutants
    assert row.caught and {"finite_sample_risk", "samplewise_matches_formula"} <= set(row.flipped)


@pytest.mark.slow
def test_power_table(theorylab_cache):
    result = theorylab_cache.audit("double_descent")
    print(result.table())
    assert result.exit_status == 0
    caught = {m.name: m.caught for m in result.mutants}
    assert caught == {m.name: True for m in CLAIM.mutants}


@pytest.mark.slow
def test_default_run_holds_including_trained_net():
    report = check("double_descent")
    print(report.table())
    assert report.verdict == "holds"
    assert report.statement("trained_net_peak").holds
    assert math.isfinite(report.statement("trained_net_noise_raises_peak").measured)
