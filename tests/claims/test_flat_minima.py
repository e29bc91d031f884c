"""Tests of the flat_minima claim: the quick run's statements, the negative controls, the
confounded large-batch comparison, the power audit, bad input, and compare's pieces on
hand-made inputs (outlier count, Spearman and t intervals against scipy)."""

import math

import numpy as np
import pytest

from theorylab.claims import flat_minima as claim
from theorylab.claims.flat_minima.common import mean_interval, spearman
from theorylab.errors import UsageError
from theorylab.registry import get_claim, make_params

QUICK = claim.QUICK


@pytest.fixture(scope="module")
def quick(theorylab_cache):
    return theorylab_cache.run("flat_minima", seed=0, **QUICK)


def test_quick_run_makes_every_statement_and_they_hold(quick):
    names = set(quick.statement_names)
    assert names == {
        "spectrum_bulk", "spectrum_outliers", "spectrum_lanczos_exact", "spectrum_hutchinson_se",
        "sharper_minima_generalize_worse", "smaller_basins_generalize_worse",
        "large_batch_sharper", "large_batch_epsilon_sharper",
        "reparametrization_outputs_unchanged", "reparametrization_hessian",
        "reparametrization_changes_sharpness", "lr_over_batch_stationary",
        "lr_over_batch_equal_ratio",
    }  # fmt: skip
    exact = [s for s in quick.statements if s.power == "exact"]
    assert len(exact) >= 6 and all(s.holds for s in exact), quick.table()
    for name in ("spectrum_bulk", "spectrum_outliers", "sharper_minima_generalize_worse",
                 "smaller_basins_generalize_worse", "large_batch_sharper",
                 "large_batch_epsilon_sharper",
                 "lr_over_batch_equal_ratio"):  # fmt: skip
        assert quick.statement(name).holds, quick.table()
    q = quick.quantities
    assert 1 <= q["spectrum_outlier_count"] <= 10
    assert q["reparametrization_lambda_max_rescaled"] > 10 * q["reparametrization_lambda_max"]
    # every attack solution is at 100% on the clean training set, the attacked ones test worse
    acc = np.asarray(q["attack_test_accuracy"])
    assert (acc[:, 0] > acc[:, -1]).all()


def test_shuffled_test_accuracies_fail(theorylab_cache):
    control = get_claim("flat_minima").negative_control
    report = theorylab_cache.run("flat_minima", seed=0, **{**QUICK, **control})
    assert report.exit_status == 1, report.table()
    assert not report.statement("sharper_minima_generalize_worse").holds
    assert not report.statement("smaller_basins_generalize_worse").holds


def test_large_batch_runs_that_stop_early_are_confounded_not_passed(theorylab_cache):
    report = theorylab_cache.run("flat_minima", seed=0,
                                 **{**QUICK, "parts": "large_batch", "kb_epochs": 3})  # fmt: skip
    assert report.verdict == "inconclusive" and report.exit_status == 3
    for name in ("large_batch_sharper", "large_batch_epsilon_sharper"):
        s = report.statement(name)
        assert s.holds is None and "confounded" in s.detail
    hyp = {h.name: h for h in report.hypotheses}
    assert not hyp["same_training_loss"].met


def test_power_audit_catches_every_mutant(theorylab_cache):
    audit = theorylab_cache.audit("flat_minima")
    assert audit.baseline_verdict == "holds"
    for m in audit.mutants:
        assert m.caught, (m.name, m.verdict)
    flipped = {m.name: set(m.flipped) for m in audit.mutants}
    assert "lr_over_batch_stationary" in flipped["no_d_plus_1"]
    assert "reparametrization_hessian" in flipped["dinh_factor_a"]
    assert "smaller_basins_generalize_worse" in flipped["log_volume_sign"]


@pytest.mark.parametrize(
    "values, match",
    [
        ({"attack_sizes": "0,10"}, ">= 3 distinct"),
        ({"attack_sizes": "0,10,2000"}, "exceeds"),
        ({"grid": "0.02:1,1.9:1"}, "diverges"),
        ({"grid": "0.02:1,0.05:1"}, "at least two points"),
        ({"parts": "spectrum,nonsense"}, "parts must be"),
        ({"small_batch": 64, "large_batch": 32}, "small_batch < large_batch"),
    ],
)
def test_bad_input_is_refused_before_work(values, match):
    with pytest.raises(UsageError, match=match):
        make_params(get_claim("flat_minima"), values)


def test_outlier_count_is_the_largest_ratio_gap():
    # three outliers over a smoothly decaying bulk (ratios 1.03 between neighbours)
    eig = [9.0, 8.0, 7.5] + [1.0 * 0.97**i for i in range(60)] + [-1e-4] * 10
    count, gap = claim.outlier_count(eig)
    assert count == 3 and gap == pytest.approx(7.5)
    # a flat bulk far below: every eigenvalue above it is separated from it
    count, _ = claim.outlier_count([9.0, 8.0, 7.5, 1.0, 0.9, 0.5] + [1e-4] * 50)
    assert count == 6


def test_spearman_and_intervals_agree_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=5), rng.normal(size=5)
        b[1] = b[3]  # a tie
        assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    values = rng.normal(size=4)
    mean, lo, hi = mean_interval(values)
    want = stats.t.interval(0.95, 3, loc=values.mean(), scale=stats.sem(values))
    assert (lo, hi) == pytest.approx(want, rel=1e-3)
    assert math.isnan(mean_interval([1.0])[1])
