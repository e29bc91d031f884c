"""Test helpers for claims: assertions with readable messages, pass rates over seeds, slack
baselines. The pytest plugin (:mod:`theorylab.pytest_plugin`) builds its fixtures on these.

- :func:`assert_holds` fails with the report's table, violated statements marked ``>`` and
  statements that could not be evaluated marked ``?``, each with its slack.
- :class:`PassRate` is a pass count over seeds with its Clopper-Pearson interval (Clopper &
  Pearson, Biometrika 1934): the exact binomial interval, from Beta quantiles,

      lo = B^{-1}(alpha/2; k, n - k + 1),   hi = B^{-1}(1 - alpha/2; k + 1, n - k),

  alpha = 1 - confidence (lo = 0 when k = 0, hi = 1 when k = n). :func:`assert_pass_rate`
  fails only when the interval lies wholly below the required rate, i.e. when the seeds are
  evidence that the statement holds less often than claimed: a statement that does hold with
  probability >= ``min_rate`` fails this test with probability at most alpha / 2, whatever
  the number of seeds. A statistical statement is then a test with a known false-alarm rate,
  not a flaky one.
- Slack baselines: :func:`slack_baseline` records each statement's slack;
  :func:`slack_regressions` lists the statements whose slack moved towards violation by more
  than a tolerance. Every slack in theorylab grows with the room left (reference/measured for
  ``<=``, measured/reference for ``>=``, distance to the nearer edge for ``in``), so the
  unsafe direction is always down: a ratio slack may fall to ``baseline / (1 + tolerance)``,
  an interval slack by ``tolerance`` times the interval's width.

Example:
    >>> PassRate(8, 8).hi, round(PassRate(8, 8).lo, 4)  # 0.025 ** (1/8) = 0.6306
    (1.0, 0.6306)
    >>> from theorylab.report import Report, Statement
    >>> r = Report("toy", {}, 0, "cpu", "float64",
    ...            statements=[Statement.at_most("b", "x <= 1", 2.0, 1.0)])
    >>> assert_holds(r)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: toy: violated (1 of 1 statements violated)
    ...
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from .report import Report, Statement, _fmt

# Baseline files are JSON with this format number; a newer format is refused, not misread.
BASELINE_FORMAT = 1
DEFAULT_SLACK_TOLERANCE = 0.1


# Assertions -------------------------------------------------------------------------------
def failure_message(report: Report) -> str:
    """The report's table with each row marked: ``>`` violated, ``?`` not evaluable."""
    bad = [s for s in report.statements if s.holds is False]
    unknown = [s for s in report.statements if s.holds is None]
    parts = []
    if bad:
        parts.append(f"{len(bad)} of {len(report.statements)} statements violated")
    if unknown:
        parts.append(f"{len(unknown)} not evaluable")
    if report.failure is not None:
        parts.append(f"failure: {report.failure}")
    if not report.statements and report.failure is None:
        parts.append("no statements")
    lines = [f"{report.claim}: {report.verdict} ({'; '.join(parts)})"]
    marks = {s.name: ">" for s in bad} | {s.name: "?" for s in unknown}
    in_rows = False
    for line in report.table().splitlines():
        name = line.split(" ", 1)[0]
        in_rows = (in_rows or name == "statement") and name not in ("hypotheses:", "verdict:")
        lines.append(f"{marks.get(name, ' ') if in_rows else ' '} {line}".rstrip())
    for s in bad + unknown:
        lines.append(_explain(s))
    return "\n".join(lines)


def _explain(s: Statement) -> str:
    ref = f"[{_fmt(s.reference[0])}, {_fmt(s.reference[1])}]" if s.relation == "in" else s.reference
    if s.holds is None:
        what = "could not be evaluated"
    else:
        what = f"{_fmt(s.measured)} {s.relation} {_fmt(ref)} is false, slack {_fmt(s.slack)}"
    detail = f"; {s.detail}" if s.detail else ""
    return f"{'>' if s.holds is False else '?'} {s.name}: {what} ({s.text}{detail})"


def assert_holds(report: Report, *, allow_inconclusive: bool = False) -> None:
    """Assert the report's verdict is ``holds``; the message is :func:`failure_message`.

    ``allow_inconclusive`` accepts an inconclusive report that violates nothing (a check that
    may stop early on some machines)."""
    __tracebackhide__ = True
    if report.verdict == "holds":
        return
    violated = any(s.holds is False for s in report.statements)
    if allow_inconclusive and report.verdict == "inconclusive" and not violated:
        return
    raise AssertionError(failure_message(report))


def assert_violated(report: Report, *statements: str) -> None:
    """Assert a negative control came out violated (and, if named, that those statements
    are among the violated ones)."""
    __tracebackhide__ = True
    if report.verdict != "violated":
        raise AssertionError(
            f"expected a violation (negative control), got {report.verdict}\n"
            + failure_message(report)
        )
    held = [name for name in statements if report.statement(name).holds is not False]
    if held:
        raise AssertionError(
            f"expected {', '.join(held)} violated\n" + failure_message(report).split("\n", 1)[1]
        )


# Pass rates over seeds ------------------------------------------------------------------
@dataclass(frozen=True)
class PassRate:
    """``passed`` of ``total`` runs passed; Clopper-Pearson interval at ``confidence``."""

    passed: int
    total: int
    confidence: float = 0.95

    def __post_init__(self):
        if not (0 <= self.passed <= self.total) or self.total < 1:
            raise ValueError(f"need 0 <= passed <= total, total >= 1: {self.passed}/{self.total}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")

    @property
    def rate(self) -> float:
        return self.passed / self.total

    @property
    def lo(self) -> float:
        if self.passed == 0:
            return 0.0
        from scipy.special import betaincinv

        alpha = 1 - self.confidence
        return float(betaincinv(self.passed, self.total - self.passed + 1, alpha / 2))

    @property
    def hi(self) -> float:
        if self.passed == self.total:
            return 1.0
        from scipy.special import betaincinv

        alpha = 1 - self.confidence
        return float(betaincinv(self.passed + 1, self.total - self.passed, 1 - alpha / 2))

    def consistent_with(self, min_rate: float) -> bool:
        """False when the interval lies below ``min_rate`` (the seeds contradict it)."""
        return self.hi >= min_rate

    def describe(self, min_rate: float | None = None) -> str:
        """``7/8 passed, rate 0.875 (95% CI [0.473, 0.997])``, with the requirement if given."""
        text = (
            f"{self.passed}/{self.total} passed, rate {self.rate:.3g} "
            f"({self.confidence:.0%} CI [{self.lo:.3f}, {self.hi:.3f}])"
        )
        if min_rate is not None:
            verdict = "consistent" if self.consistent_with(min_rate) else "NOT consistent"
            text += f", {verdict} with the required rate >= {min_rate:g}"
        return text


def assert_pass_rate(
    passed: int, total: int, min_rate: float, confidence: float = 0.95
) -> PassRate:
    """Fail when ``passed`` of ``total`` is evidence (at ``confidence``) that the pass rate
    is below ``min_rate``; return the :class:`PassRate` otherwise.

    ``min_rate = 1`` requires every run to pass.

    Example:
        >>> assert_pass_rate(6, 8, 0.95).describe()
        '6/8 passed, rate 0.75 (95% CI [0.349, 0.968])'
        >>> assert_pass_rate(5, 8, 0.95)
        Traceback (most recent call last):
        ...
        AssertionError: 5/8 passed, rate 0.625 (95% CI [0.245, 0.915]), NOT consistent with the required rate >= 0.95
    """  # noqa: E501
    __tracebackhide__ = True
    rate = PassRate(passed, total, confidence)
    if not rate.consistent_with(min_rate):
        raise AssertionError(rate.describe(min_rate))
    return rate


# Slack baselines --------------------------------------------------------------------------
def slack_baseline(report: Report) -> dict[str, Any]:
    """What a baseline file holds: the run's identity and each statement's slack."""
    return {
        "format": BASELINE_FORMAT,
        "claim": report.claim,
        "run_hash": report.run_hash,
        "seed": report.seed,
        "params": report.params,
        "statements": {
            s.name: {
                "relation": s.relation,
                "reference": _json_number(s.reference),
                "slack": _json_number(s.slack),
                "holds": s.holds,
            }
            for s in report.statements
        },  # fmt: skip
    }


def _json_number(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, list):
        return [_json_number(v) for v in x]
    return x


def _number(x: Any) -> Any:
    return float(x) if isinstance(x, str) else x


def slack_regressions(
    report: Report, baseline: dict[str, Any], tolerance: float = DEFAULT_SLACK_TOLERANCE
) -> list[str]:
    """One line per statement whose slack moved towards violation beyond ``tolerance``
    (see the module docstring), or that held in the baseline and does not now, or that
    appeared or disappeared; an empty list when the report keeps its baseline.

    Example:
        >>> from theorylab.report import Report, Statement
        >>> old = Report("t", {}, 0, "cpu", "float64", run_hash="h",
        ...              statements=[Statement.at_most("b", "x <= 4", 1.0, 4.0)])
        >>> new = Report("t", {}, 0, "cpu", "float64", run_hash="h",
        ...              statements=[Statement.at_most("b", "x <= 4", 2.0, 4.0)])
        >>> slack_regressions(new, slack_baseline(old))
        ['b: slack 2 < 4 recorded (tolerance 10%: at least 3.636)']
        >>> slack_regressions(old, slack_baseline(new))  # more room: fine
        []
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if baseline.get("format", BASELINE_FORMAT) > BASELINE_FORMAT:
        return [f"baseline format {baseline['format']} is newer than this theorylab reads"]
    if baseline.get("run_hash") and report.run_hash and baseline["run_hash"] != report.run_hash:
        return [
            f"baseline recorded for run {baseline['run_hash']} (seed {baseline.get('seed')}, "
            f"params {baseline.get('params')}), this report is run {report.run_hash}: "
            "the settings changed; re-record"
        ]
    problems = []
    recorded = baseline.get("statements", {})
    current = {s.name: s for s in report.statements}
    for name, old in recorded.items():
        s = current.get(name)
        if s is None:
            problems.append(f"{name}: in the baseline, not in this report")
            continue
        old_slack = _number(old.get("slack"))
        if old.get("holds") is True and s.holds is not True:
            state = "is violated" if s.holds is False else "could not be evaluated"
            problems.append(f"{name}: held in the baseline (slack {_fmt(old_slack)}), now {state}")
            continue
        if old_slack is None or s.slack is None or old_slack == s.slack:
            continue
        if math.isinf(old_slack) and old_slack > 0:  # measured 0 against a bound: exact room
            problems.append(f"{name}: slack {_fmt(s.slack)}, inf recorded (measured was 0)")
            continue
        if s.relation == "in":
            lo, hi = s.reference
            floor = old_slack - tolerance * (hi - lo)
            allowed = f"{tolerance:g} x width {_fmt(hi - lo)}"
        else:
            floor = old_slack / (1 + tolerance)
            allowed = f"{tolerance:.0%}"
        if s.slack < floor:
            problems.append(
                f"{name}: slack {_fmt(s.slack)} < {_fmt(old_slack)} recorded "
                f"(tolerance {allowed}: at least {_fmt(floor)})"
            )
    for name in current:
        if name not in recorded:
            problems.append(f"{name}: not in the baseline (new statement); re-record")
    return problems


def read_baseline(path: str | os.PathLike) -> dict[str, Any] | None:
    """The baseline stored at ``path``, or None when there is none."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def write_baseline(path: str | os.PathLike, report: Report) -> None:
    """Store the report's slacks at ``path`` (directories created; stable, diff-friendly)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(slack_baseline(report), f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")


def check_slack_baseline(
    report: Report,
    path: str | os.PathLike,
    *,
    tolerance: float = DEFAULT_SLACK_TOLERANCE,
    record: bool = False,
) -> str:
    """Compare ``report`` with the baseline at ``path`` and return what was done.

    ``record`` writes the baseline (re-recording). A missing baseline is written and the
    check fails, as snapshot tools do, so a new baseline is looked at and committed before it
    guards anything. A regression raises AssertionError listing every moved statement.
    """
    __tracebackhide__ = True
    if record:
        write_baseline(path, report)
        return f"recorded {path}"
    baseline = read_baseline(path)
    if baseline is None:
        write_baseline(path, report)
        raise AssertionError(
            f"no slack baseline for this test: recorded one at {path}; check it in and rerun"
        )
    problems = slack_regressions(report, baseline, tolerance)
    if problems:
        raise AssertionError(
            f"{report.claim}: slack moved towards violation since the baseline {path} "
            "(rerun with --theorylab-record to accept):\n  " + "\n  ".join(problems)
        )
    return f"kept {path}"
