"""no_bad_minima: the claim on a small configuration (one shared run), its negative control,
bad input and the CLI exit statuses."""

import json
import subprocess
import sys

import pytest

from theorylab import check
from theorylab.errors import UsageError
from theorylab.report import Report

# N = 12 points in d0 = 3 dimensions: widths 2, 4, 6, 8 (d0 d1 / N = 0.5 ... 2); teacher of
# k = 10 units (spurious minima in ~1/3 of runs at student width k: 23 of 64 measured here).
SMALL = dict(n=12, d0=3, seeds=6, student_factors="1,2", max_iters=600)
# The negative control: the widest student is exact-size (k = 10 units).
CONTROL = dict(n=8, d0=2, seeds=8, student_factors="1", max_iters=300)


@pytest.fixture(scope="module")
def small_report():
    return check("no_bad_minima", **SMALL)


def test_small_run_holds_with_every_statement(small_report):
    names = set(small_report.statement_names)
    assert names == {
        "soudry_carmon", "soudry_carmon_interpolation", "soudry_carmon_certificate",
        "parameter_count_floor", "effective_dimension_floor", "nguyen_hein",
        "nguyen_hein_certificate", "spurious_minima_contrast", "no_spurious_minima_wide",
    }  # fmt: skip
    failing = [s.name for s in small_report.statements if s.holds is not True]
    assert small_report.verdict == "holds", failing


def test_contrast_certifies_spurious_minima_at_exact_width(small_report):
    """The negative control of the certifier: at student width k it finds bad minima."""
    contrast = small_report.statement("spurious_minima_contrast")
    assert contrast.measured > 0
    rows = small_report.series["teacher_student"]
    exact = rows[0]
    flagged = [
        (loss, lam)
        for loss, lam, spurious in zip(
            exact["loss"], exact["lambda_min"], exact["spurious"], strict=True
        )
        if spurious
    ]
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


def test_report_round_trips_json(small_report):
    again = Report.from_json(small_report.to_json())
    assert again.to_json() == small_report.to_json()


@pytest.mark.parametrize(
    "values, fragment",
    [
        (dict(n=0), "n must be >= 2"),
        (dict(width_factors="1,2"), "parameter_count_floor"),
        (dict(width_factors="0.5,1"), "soudry_carmon_interpolation"),
        (dict(width_factors="0.5,x"), "comma-separated numbers"),
        (dict(student_factors="2,4"), "starting at 1"),
        (dict(nh_first_width=3, nh_second_width=5), "pyramidal"),
        (dict(teacher_units=8, teacher_dim=4), "d >= k"),
        (dict(grad_tol=0.5), "grad_tol must be <="),
        (dict(n=2000, d0=10, seeds=4096), "memory"),
    ],
)
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        check("no_bad_minima", **values)


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "theorylab.check", "no_bad_minima", *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_cli_bad_input_exit_2_one_line():
    proc = cli("--seeds", "0")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "seeds" in proc.stderr


def test_cli_negative_control_exit_1_and_same_seed_same_json():
    """Exact-size widest student: the 'no spurious minima at the widest student' statement
    sees the certified spurious minima and fails. The API run with the same parameters and
    seed gives byte-identical JSON apart from timing (determinism)."""
    args = [f"--{k.replace('_', '-')}={v}" for k, v in CONTROL.items()]
    proc = cli(*args, "--quiet", "--json", "-")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    wide = next(s for s in report["statements"] if s["name"] == "no_spurious_minima_wide")
    assert wide["holds"] is False and wide["measured"] > 0
    again = check("no_bad_minima", **CONTROL).to_dict()
    report.pop("timing"), again.pop("timing")
    assert json.dumps(again, indent=1) == json.dumps(report, indent=1)


def test_cli_iteration_budget_exit_3():
    """Three L-BFGS iterations reach no critical point: inconclusive, never a pass."""
    proc = cli(
        "--n",
        "8",
        "--d0",
        "2",
        "--seeds",
        "3",
        "--max-iters",
        "3",
        "--student-factors",
        "1",
        "--quiet",
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr


def test_float32_cannot_certify_and_is_inconclusive():
    """float32 cannot reach the float64 gradient tolerance: no critical point is certified,
    so the theorem statements are n/a and the verdict is inconclusive (never a pass)."""
    report = check("no_bad_minima", dtype="float32", **{**CONTROL, "seeds": 3})
    assert report.verdict == "inconclusive"
    assert report.statement("soudry_carmon").holds is None
    assert report.statement("nguyen_hein").holds is None


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_default_run_holds(seed):
    """The default CLI configuration (about 35 s of CPU time per seed)."""
    report = check("no_bad_minima", seed=seed)
    assert report.verdict == "holds", [s.name for s in report.statements if not s.holds]
    assert report.statement("spurious_minima_contrast").measured >= 1
    assert report.quantities["soudry_zero_error_fraction"][0] == 0.0
