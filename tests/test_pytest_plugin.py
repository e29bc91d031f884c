"""The pytest plugin, driven through pytester: marker and fixtures, the session cache keyed by
run hash, --theorylab-seeds pass rates, slack baselines and their re-recording."""

import dataclasses
import json

import pytest

# Imported before pytester snapshots sys.modules: in-process pytester runs drop the modules
# they import, and torch and numpy's C extensions cannot be imported twice in one process.
import scipy.special  # noqa: F401
import torch  # noqa: F401

from theorylab import registry
from theorylab.registry import Claim, param
from theorylab.report import Report, Statement

pytest_plugins = ["pytester"]
RUNS = []  # (seed, params) of every run of the toy claim


@dataclasses.dataclass(frozen=True)
class ToyParams:
    bound: float = param(10.0, "reference of the statement", minimum=0.0)
    fail_every: int = param(0, "seeds s with s % fail_every == fail_every - 1 fail (0: none)",
                            minimum=0)  # fmt: skip


def toy_run(p, ctx):
    RUNS.append((ctx.seed, p))
    failing = p.fail_every and ctx.seed % p.fail_every == p.fail_every - 1
    measured = 2 * p.bound if failing else 1.0
    report = Report("plugin_toy", {}, ctx.seed, ctx.device, ctx.dtype)
    report.statements = [Statement.at_most("bound", "x <= bound", measured, p.bound)]
    return report


@pytest.fixture(autouse=True)
def toy_claim():
    RUNS.clear()
    registry.register(Claim("plugin_toy", "a toy claim", ToyParams, run=toy_run))
    yield
    registry.unregister("plugin_toy")


@pytest.fixture
def run(pytester):
    def go(source, *args):
        pytester.makepyfile(test_toy=source)
        # hypothesis's plugin would import hypothesis afresh in every inner run (seconds)
        quiet = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
        return pytester.runpytest(*quiet, *args)

    return go


def test_the_plugin_is_installed(pytestconfig):
    # The entry point of pyproject.toml (pytest11) loads it in every pytest run.
    assert pytestconfig.pluginmanager.has_plugin("theorylab")


def test_marker_runs_the_claim_once_per_run_hash(run):
    result = run(
        """
        import pytest
        from theorylab.testing import assert_holds

        @pytest.mark.theorylab_claim("plugin_toy", bound=5.0)
        def test_a(theorylab_report):
            assert_holds(theorylab_report)
            theorylab_report.statements.clear()  # edits stay in this test's copy

        @pytest.mark.theorylab_claim("plugin_toy", bound=5.0)
        def test_b(theorylab_report, theorylab_run):
            assert theorylab_report.statement("bound").slack == 5.0
            assert theorylab_run("plugin_toy", bound=5.0).run_hash == theorylab_report.run_hash
            assert theorylab_run("plugin_toy", bound=6.0).statement("bound").slack == 6.0
        """
    )
    result.assert_outcomes(passed=2)
    assert [seed for seed, _ in RUNS] == [0, 0]  # bound=5 once, bound=6 once
    result.stdout.fnmatch_lines(["*claim runs: 2, reused from the session cache: 2*"])


def test_a_failing_report_shows_its_marked_table(run):
    result = run(
        """
        import pytest
        from theorylab.testing import assert_holds

        @pytest.mark.theorylab_claim("plugin_toy", fail_every=1)
        def test_fails(theorylab_report):
            assert_holds(theorylab_report)
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: plugin_toy: violated (1 of 1 statements violated)*",
            "*> bound      20*<=*10*0.5*NO*",
            "*> bound: 20 <= 10 is false, slack 0.5 (x <= bound)*",
        ]
    )


SEEDED = """
import pytest
from theorylab.testing import assert_holds

@pytest.mark.theorylab_claim("plugin_toy", fail_every=4, {extra})
def test_rate(theorylab_report):
    assert_holds(theorylab_report)
"""


def test_seeds_option_requires_a_pass_rate_and_reports_the_count(run):
    result = run(SEEDED.format(extra=""), "--theorylab-seeds", "8")
    result.assert_outcomes(passed=1)  # seeds 3 and 7 fail: 6/8 is consistent with 0.95
    result.stdout.fnmatch_lines(
        ["*test_rate: plugin_toy: 6/8 passed, rate 0.75 (95% CI ?0.349, 0.968?), consistent*"
         "; failed seeds 3, 7"]
    )  # fmt: skip
    assert sorted(seed for seed, _ in RUNS) == list(range(8))


def test_seeds_failing_the_rate_fail_with_the_first_failure(run):
    result = run(SEEDED.format(extra="min_pass_rate=1.0"), "--theorylab-seeds", "8")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*6/8 passed*NOT consistent with the required rate >= 1*", "*first failure (seed 3)*"]
    )


def test_marker_seeds_without_the_option_and_the_option_wins(run):
    result = run(SEEDED.format(extra="seeds=2"))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*2/2 passed*"])
    result = run(SEEDED.format(extra="seeds=2"), "--theorylab-seeds", "4")
    result.stdout.fnmatch_lines(["*3/4 passed*"])


def test_fixture_without_marker_is_a_usage_error(run):
    result = run("def test_x(theorylab_report):\n    pass\n")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs @pytest.mark.theorylab_claim(NAME, ...)*"])


def test_bad_seed_count_is_refused(run):
    result = run("def test_x():\n    pass\n", "--theorylab-seeds", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


BASELINE = """
def test_slack(theorylab_run, theorylab_baseline):
    theorylab_baseline.check(theorylab_run("plugin_toy", bound={bound}), tolerance=0.1)
"""


def test_slack_baseline_records_checks_and_rerecords(run, pytester):
    path = pytester.path / "theorylab_baselines" / "test_toy" / "test_slack.json"
    result = run(BASELINE.format(bound=10.0))
    result.assert_outcomes(failed=1)  # no baseline yet: recorded, and the test says so
    result.stdout.fnmatch_lines(["*no slack baseline for this test: recorded one at*"])
    assert json.loads(path.read_text())["statements"]["bound"]["slack"] == 10.0
    run(BASELINE.format(bound=10.0)).assert_outcomes(passed=1)
    # Different settings are a different run: the baseline does not apply.
    run(BASELINE.format(bound=9.5)).stdout.fnmatch_lines(["*settings changed; re-record*"])
    path.write_text(path.read_text().replace("10.0", "12.0"))  # a better recorded slack
    result = run(BASELINE.format(bound=10.0))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bound: slack 10 < 12 recorded (tolerance 10%*"])
    run(BASELINE.format(bound=10.0), "--theorylab-record").assert_outcomes(passed=1)
    run(BASELINE.format(bound=10.0)).assert_outcomes(passed=1)


def test_cache_keeps_each_runs_measurement_for_compare_tests():
    """ReportCache.measurement: simulate's result of the cached run (one run for both), from
    which compare rebuilds the cached report's statements."""
    from theorylab import registry
    from theorylab.pytest_plugin import ReportCache

    cache = ReportCache()
    claim = registry.get_claim("implicit_bias")
    measurement = cache.measurement("implicit_bias", seed=0, **claim.quick)
    report = cache.run("implicit_bias", seed=0, **claim.quick)
    assert (cache.runs, cache.reused) == (1, 1)
    params = registry.make_params(claim, claim.quick)
    rebuilt = claim.compare(measurement, params).statements
    assert [(s.name, s.measured, s.holds) for s in rebuilt] == [
        (s.name, s.measured, s.holds) for s in report.statements
    ]
