"""no_bad_minima: what is specific to it. The quick run holds with the theorems' statements;
the certifier finds the spurious minima at student width k; the pure comparisons on
hand-made measurements (a counterexample, a wrong mechanism, a wrong regime); the negative
control fails the right statement; the declared power table (the generic contract, exit
statuses and determinism, is tests/test_contract.py's)."""

import numpy as np
import pytest

from theorylab import check
from theorylab.claims import no_bad_minima as claim
from theorylab.claims.no_bad_minima import soudry
from theorylab.errors import UsageError
from theorylab.plots.no_bad_minima import plot
from theorylab.registry import Comparison
from theorylab.report import Report
from theorylab.theory import soudry2016

QUICK = claim.CLAIM.quick


@pytest.fixture(scope="module")
def small_report(theorylab_cache):
    return theorylab_cache.run("no_bad_minima", seed=0, **QUICK)


def test_quick_run_holds_with_every_statement(small_report):
    assert set(small_report.statement_names) == {
        "soudry_carmon", "soudry_carmon_interpolation", "soudry_carmon_mechanism",
        "soudry_carmon_certificate", "parameter_count_floor", "effective_dimension_floor",
        "nguyen_hein", "nguyen_hein_mechanism", "nguyen_hein_certificate",
        "spurious_minima_contrast", "no_spurious_minima_wide",
    }  # fmt: skip
    failing = [s.name for s in small_report.statements if s.holds is not True]
    assert small_report.verdict == "holds", failing
    powers = {s.name: s.power for s in small_report.statements}
    assert powers["soudry_carmon_mechanism"] == powers["nguyen_hein_mechanism"] == "exact"
    assert powers["nguyen_hein_certificate"] == "sanity"  # 10^9 loose: not a test of constants


def test_contrast_certifies_spurious_minima_at_exact_width(small_report):
    """The negative control of the certifier: at student width k it finds bad minima, each a
    converged point above the global loss with a non-negative smallest Hessian eigenvalue."""
    contrast = small_report.statement("spurious_minima_contrast")
    assert contrast.measured > 0
    rows = small_report.series["teacher_student"]
    exact = rows[0]
    flagged = [(loss, lam) for loss, lam, spurious
               in zip(exact["loss"], exact["lambda_min"], exact["spurious"], strict=True)
               if spurious]  # fmt: skip
    assert flagged and all(loss > 1e-3 and lam > 0 for loss, lam in flagged)
    assert rows[-1]["count"] == 0


def test_soudry_measurements_are_consistent(small_report):
    s = small_report.series["soudry"]
    assert s["width"] == [2, 4, 6, 8]
    # zero-error fraction: none below the parameter floor, all at d0 d1 = 2N
    assert s["zero_fraction"][0] == 0.0 and s["zero_fraction"][-1] == 1.0
    assert small_report.statement("parameter_count_floor").measured > 1e-3
    cert = small_report.statement("soudry_carmon_certificate")
    assert 0 < cert.measured <= 1
    assert small_report.statement("soudry_carmon_mechanism").measured < 1e-14


def test_figure_is_drawn_from_a_saved_report(small_report, tmp_path):
    """The figure needs the report alone (global minima carry a nan eigenvalue)."""
    path = tmp_path / "no_bad_minima.png"
    plot(Report.from_json(small_report.to_json()), str(path))
    assert path.stat().st_size > 10_000


def test_negative_control_sees_the_spurious_minima(theorylab_cache):
    r = theorylab_cache.run("no_bad_minima", seed=0, **{**QUICK, **claim.CLAIM.negative_control})
    wide = r.statement("no_spurious_minima_wide")
    assert r.verdict == "violated" and wide.holds is False and wide.measured > 0
    assert [s.name for s in r.statements if s.holds is False] == ["no_spurious_minima_wide"]


# Pure comparisons on hand-made measurements ----------------------------------------------------


def _width(width, errors, converged, lam_min, N=4, d0=2, S=3, margin=0.5):
    """A hand-made SoudryWidth: S runs, N samples, a design with orthogonal rows."""
    P = width * d0
    design = np.zeros((S, N, P))
    for n in range(min(N, P)):
        design[:, n, n] = 1.0 + n
    residual = np.sqrt(np.asarray(errors))[:, None] * np.ones((S, N)) / 2
    grad_w = np.einsum("snp,sn->sp", design, residual) / N  # the identity holds exactly
    return soudry.SoudryWidth(
        width=width, relative_error=np.asarray(errors, dtype=float),
        status=["converged" if c else "budget" for c in converged],
        converged=np.asarray(converged), margin=np.full(S, margin),
        lambda_min=np.asarray(lam_min, dtype=float), lambda_abs=np.ones(S),
        residual=residual, grad_w=grad_w, design=design,
        design_sv=np.linalg.svd(design, compute_uv=False),
    )  # fmt: skip


def _params(**values):
    base = dict(n=4, d0=2, seeds=3, width_factors="1,2,4")
    return claim.Params(**{**base, **values})


def _compare(widths, p):
    out = Comparison([])
    soudry.compare(p, widths, out, 2.0**-52)
    return {s.name: s for s in out.statements}


def test_a_differentiable_minimum_with_error_in_the_regime_is_a_counterexample():
    p = _params()  # widths 2, 4, 8: d0 d1 = 4, 8, 16 >= N = 4, all in the regime
    good = [_width(2, [0.3, 0.2, 0.4], [False] * 3, [0.0] * 3),
            _width(4, [0.0] * 3, [True] * 3, [0.0] * 3),
            _width(8, [0.0] * 3, [True] * 3, [0.0] * 3)]  # fmt: skip
    assert _compare(good, p)["soudry_carmon"].holds is True
    bad = good[:2] + [_width(8, [0.0, 0.0, 0.1], [True] * 3, [0.0] * 3)]
    assert _compare(bad, p)["soudry_carmon"].measured == 1
    saddle = good[:2] + [_width(8, [0.0, 0.0, 0.1], [True] * 3, [0.0, 0.0, -0.5])]
    assert _compare(saddle, p)["soudry_carmon"].holds is True  # a saddle is not a minimum
    kink = good[:2] + [_width(8, [0.0, 0.0, 0.1], [True] * 3, [0.0] * 3, margin=0.0)]
    assert _compare(kink, p)["soudry_carmon"].holds is True  # not differentiable


def test_mechanism_statement_sees_a_gradient_that_is_not_the_design_s():
    p = _params()
    widths = [_width(w, [0.1] * 3, [False] * 3, [0.0] * 3) for w in (2, 4, 8)]
    assert _compare(widths, p)["soudry_carmon_mechanism"].measured < 1e-15
    widths[1].grad_w = widths[1].grad_w * 4  # the sum loss's gradient for N = 4
    assert _compare(widths, p)["soudry_carmon_mechanism"].holds is False


def test_a_wrong_regime_moves_the_floor_statement(monkeypatch):
    """Outside the regime no run interpolates; with the regime N <= d0 + d1 the widest width
    counts as outside and its zero errors fail the floor statement."""
    p = _params(n=6, width_factors="0.5,1,2")  # widths 2, 3, 6: d0 d1 = 4, 6, 12 vs N = 6
    widths = [_width(2, [0.3] * 3, [True] * 3, [0.0] * 3, N=6),
              _width(3, [0.0] * 3, [True] * 3, [0.0] * 3, N=6),
              _width(6, [0.0] * 3, [True] * 3, [0.0] * 3, N=6)]  # fmt: skip
    assert _compare(widths, p)["effective_dimension_floor"].holds is True
    monkeypatch.setattr(soudry2016, "in_regime", lambda n, d0, d1: n <= d0 + d1)
    assert _compare(widths, p)["effective_dimension_floor"].holds is False


# Inputs, budgets, power ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, fragment",
    [
        (dict(width_factors="1,2"), "parameter_count_floor"),
        (dict(width_factors="0.5,1"), "soudry_carmon_interpolation"),
        (dict(width_factors="0.5,x"), "width_factors must be a number"),
        (dict(width_factors="0.5,-1,2"), "width_factors values must be > 0"),
        (dict(student_factors="2,4"), "starting at 1"),
        (dict(nh_first_width=3, nh_second_width=5), "pyramidal"),
        (dict(teacher_units=8, teacher_dim=4), "d >= k"),
        (dict(n=2000, d0=10, seeds=4096), "memory"),
    ],
)
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        check("no_bad_minima", **values)


def test_iteration_budget_is_inconclusive():
    """Three L-BFGS iterations reach no critical point: inconclusive, never a pass."""
    report = check("no_bad_minima", n=8, d0=2, seeds=3, max_iters=3, student_factors="1")
    assert report.verdict == "inconclusive"


def test_small_teacher_stops_before_the_simulation():
    report = check("no_bad_minima", teacher_units=4)
    assert report.verdict == "inconclusive" and "spurious_teacher_width" in report.failure
    assert report.statements == []


def test_float32_cannot_certify_and_is_inconclusive():
    """float32 cannot reach the float64 gradient tolerance: no critical point is certified,
    so the theorem statements are n/a and the verdict is inconclusive (never a pass)."""
    report = check("no_bad_minima", dtype="float32", n=8, d0=2, seeds=3, student_factors="1,2",
                   max_iters=300)  # fmt: skip
    assert report.verdict == "inconclusive", report.table()
    assert report.statement("soudry_carmon").holds is None
    assert report.statement("nguyen_hein").holds is None


def test_power_one_cheap_mutant(theorylab_cache):
    """The regime N <= d0 + d1 is caught at the quick settings (the full table is slow)."""
    result = theorylab_cache.audit("no_bad_minima", mutants=["regime_sum"])
    assert result.baseline_verdict == "holds"
    assert [m.caught for m in result.mutants] == [True], result.table()


@pytest.mark.slow
def test_power_table(theorylab_cache):
    result = theorylab_cache.audit("no_bad_minima")
    assert result.baseline_verdict == "holds"
    table = {m.name: (m.caught, m.error) for m in result.mutants}
    assert table == {m.name: (m.caught, None) for m in claim.CLAIM.mutants}, result.table()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_default_run_holds(seed):
    report = check("no_bad_minima", seed=seed)
    assert report.verdict == "holds", [s.name for s in report.statements if not s.holds]
    assert report.statement("spurious_minima_contrast").measured >= 1
    assert report.quantities["soudry_zero_error_fraction"][0] == 0.0
