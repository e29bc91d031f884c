"""theorylab.testing: assertion messages, binomial pass-rate intervals, slack baselines."""

import json
import math

import pytest

from theorylab.report import Hypothesis, Report, Statement
from theorylab.testing import (
    PassRate,
    assert_holds,
    assert_pass_rate,
    assert_violated,
    check_slack_baseline,
    failure_message,
    slack_baseline,
    slack_regressions,
)


def report(*statements, run_hash="h", failure=None, hypotheses=()):
    return Report(
        "toy", {"a": 1}, 0, "cpu", "float64", statements=list(statements),
        hypotheses=list(hypotheses), failure=failure, run_hash=run_hash,
    )  # fmt: skip


# Binomial intervals -----------------------------------------------------------------------
def binom_cdf(k: int, n: int, p: float) -> float:
    return math.fsum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


def solve(f, lo=0.0, hi=1.0):
    """Root of an increasing f on [lo, hi] by bisection."""
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("k, n", [(0, 5), (3, 8), (6, 8), (8, 8), (17, 40), (1, 1)])
def test_clopper_pearson_bounds_solve_the_binomial_tail_equations(k, n):
    # Independent route: the defining equations P(X >= k | lo) = alpha/2 and
    # P(X <= k | hi) = alpha/2, solved by bisection on the binomial sum.
    rate = PassRate(k, n, 0.9)
    lo = 0.0 if k == 0 else solve(lambda p: (1 - binom_cdf(k - 1, n, p)) - 0.05)
    hi = 1.0 if k == n else solve(lambda p: 0.05 - binom_cdf(k, n, p))
    assert rate.lo == pytest.approx(lo, abs=1e-9)
    assert rate.hi == pytest.approx(hi, abs=1e-9)
    assert rate.lo <= k / n <= rate.hi


@pytest.mark.parametrize("n", [4, 8, 30])
@pytest.mark.parametrize("p", [0.5, 0.9, 0.95])
def test_a_statement_at_the_required_rate_fails_at_most_alpha_over_2(n, p):
    # Exact false-alarm probability of the rule, summed over every pass count.
    false_alarm = math.fsum(
        math.comb(n, k) * p**k * (1 - p) ** (n - k)
        for k in range(n + 1)
        if not PassRate(k, n, 0.95).consistent_with(p)
    )
    assert false_alarm <= 0.025 + 1e-12


def test_assert_pass_rate_reports_the_count_and_interval():
    assert assert_pass_rate(8, 8, 1.0).describe() == "8/8 passed, rate 1 (95% CI [0.631, 1.000])"
    with pytest.raises(AssertionError, match=r"7/8 passed.*NOT consistent .* >= 1"):
        assert_pass_rate(7, 8, 1.0)
    with pytest.raises(ValueError):
        PassRate(3, 2)


# Assertion messages -----------------------------------------------------------------------
def test_assert_holds_marks_violated_rows_with_their_slack():
    r = report(
        Statement.at_most("ok", "x <= 2", 1.0, 2.0),
        Statement.at_most("bad", "y <= 1", 4.0, 1.0, detail="width 64"),
        Statement.at_least("nan", "z >= 1", math.nan, 1.0),
        hypotheses=[Hypothesis("iid", "independent draws", True, "yes")],
    )
    with pytest.raises(AssertionError) as info:
        assert_holds(r)
    text = str(info.value)
    lines = text.splitlines()
    assert lines[0] == "toy: violated (1 of 3 statements violated; 1 not evaluable)"
    assert any(line.startswith("> bad ") and "0.25" in line and "NO" in line for line in lines)
    assert any(line.startswith("? nan ") for line in lines)
    assert any(line.startswith("  ok ") for line in lines)
    assert "> bad: 4 <= 1 is false, slack 0.25 (y <= 1; width 64)" in lines
    assert "  [met] iid: yes" in text


def test_assert_holds_passes_and_tolerates_inconclusive_only_when_asked():
    assert_holds(report(Statement.at_most("ok", "x <= 2", 1.0, 2.0)))
    stopped = report(Statement.at_most("ok", "x <= 2", 1.0, 2.0), failure="NaN at step 3")
    with pytest.raises(AssertionError, match="inconclusive .*failure: NaN at step 3"):
        assert_holds(stopped)
    assert_holds(stopped, allow_inconclusive=True)
    violated = report(Statement.at_most("bad", "y <= 1", 4.0, 1.0), failure="NaN")
    with pytest.raises(AssertionError):
        assert_holds(violated, allow_inconclusive=True)


def test_assert_violated_for_negative_controls():
    r = report(Statement.at_most("ok", "x <= 2", 1.0, 2.0), Statement.at_most("bad", "", 4, 1))
    assert_violated(r, "bad")
    with pytest.raises(AssertionError, match="expected ok violated"):
        assert_violated(r, "ok")
    with pytest.raises(AssertionError, match="expected a violation .* got holds"):
        assert_violated(report(Statement.at_most("ok", "x <= 2", 1.0, 2.0)))


def test_failure_message_of_a_report_without_statements():
    assert failure_message(report()).startswith("toy: inconclusive (no statements)")


# Slack baselines --------------------------------------------------------------------------
def interval(measured):
    return Statement.within("exp", "slope", measured, (-0.7, -0.3))


@pytest.mark.parametrize(
    "old, new, moved",
    [
        (Statement.at_most("b", "", 1.0, 4.0), Statement.at_most("b", "", 1.05, 4.0), False),
        (Statement.at_most("b", "", 1.0, 4.0), Statement.at_most("b", "", 1.2, 4.0), True),
        (Statement.at_most("b", "", 1.0, 4.0), Statement.at_most("b", "", 0.1, 4.0), False),
        (Statement.at_least("b", "", 4.0, 1.0), Statement.at_least("b", "", 3.5, 1.0), True),
        (interval(-0.5), interval(-0.47), False),  # 0.2 -> 0.17: within 0.1 x width 0.4
        (interval(-0.5), interval(-0.40), True),  # 0.2 -> 0.1
        (interval(-0.5), interval(-0.69), True),  # towards the other edge
    ],
)
def test_only_moves_towards_violation_beyond_the_tolerance_fail(old, new, moved):
    problems = slack_regressions(report(new), slack_baseline(report(old)), tolerance=0.1)
    assert bool(problems) == moved, problems


def test_structural_changes_fail_with_a_line_each():
    a, b = Statement.at_most("a", "", 1, 4), Statement.at_most("b", "", 1, 4)
    base = slack_baseline(report(a, b))
    now = report(Statement.at_most("a", "", 5, 4), Statement.at_most("c", "", 1, 4))
    problems = slack_regressions(now, base)
    assert problems == [
        "a: held in the baseline (slack 4), now is violated",
        "b: in the baseline, not in this report",
        "c: not in the baseline (new statement); re-record",
    ]
    other = report(Statement.at_most("a", "", 1, 4), run_hash="other")
    assert "settings changed" in slack_regressions(other, base)[0]


def test_baseline_file_missing_recorded_kept_and_infinite_slack(tmp_path):
    path = tmp_path / "sub" / "t.json"
    r = report(Statement.at_most("zero", "0 <= 1", 0.0, 1.0))  # slack inf
    with pytest.raises(AssertionError, match="recorded one at"):
        check_slack_baseline(r, path)
    data = json.loads(path.read_text())  # strict JSON: inf is written as a string
    assert data["statements"]["zero"]["slack"] == "inf"
    assert check_slack_baseline(r, path).startswith("kept")
    worse = report(Statement.at_most("zero", "0 <= 1", 0.9, 1.0))
    with pytest.raises(AssertionError, match="--theorylab-record"):
        check_slack_baseline(worse, path)  # inf baseline: any finite slack is a change
    assert check_slack_baseline(worse, path, record=True).startswith("recorded")
    assert check_slack_baseline(worse, path).startswith("kept")
