"""pytest plugin (entry point ``pytest11: theorylab``): claims as tests, in any project.

Installed with theorylab, so every pytest run has it. It gives:

- the marker ``@pytest.mark.theorylab_claim(NAME, seed=0, device="cpu", dtype="float64",
  seeds=None, min_pass_rate=0.95, **params)`` and the fixture ``theorylab_report``, the
  report of that run;
- the fixture ``theorylab_run(NAME, seed=0, **params) -> Report``. Both go through one cache
  per session keyed by the report's run hash, so tests asking for the same run (same claim,
  parameters, seed, device, dtype) share it and the claim runs once;
- ``--theorylab-seeds N``: a test marked ``theorylab_claim`` and using ``theorylab_report``
  runs once per seed 0..N-1 (reports from the cache) and passes when the pass count is
  consistent with ``min_pass_rate`` (Clopper-Pearson interval at ``--theorylab-confidence``,
  see :mod:`theorylab.testing`); the pass count is reported in the terminal summary. The
  marker's ``seeds=N`` does the same without the option (the option wins);
- the fixture ``theorylab_baseline`` with ``check(report, tolerance=0.1, name=None)``: the
  statements' slacks against a small JSON file beside the test,
  ``theorylab_baselines/<test module>/<test name>.json``; ``--theorylab-record`` re-records.

Importing this module imports no torch: the claims import it when they run.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import types
from pathlib import Path
from typing import Any

import pytest

from . import registry
from .report import Report
from .testing import DEFAULT_SLACK_TOLERANCE, PassRate, check_slack_baseline

MARKER = "theorylab_claim"
RUN_OPTIONS = ("seed", "device", "dtype")
LOOP_OPTIONS = ("seeds", "min_pass_rate")
DEFAULT_MIN_PASS_RATE = 0.95


class ReportCache:
    """Reports of one session by run hash; ``runs`` counts claim runs, ``reused`` hits."""

    def __init__(self) -> None:
        self.reports: dict[str, Report] = {}
        self.measurements: dict[str, Any] = {}
        self.runs = 0
        self.reused = 0

    def run(
        self, name: str, *, seed: int = 0, device: str = "cpu", dtype: str = "float64", **params
    ) -> Report:
        key = self._ensure(name, seed, device, dtype, params)
        return copy.deepcopy(self.reports[key])  # a test that edits it cannot change another's

    def measurement(
        self, name: str, *, seed: int = 0, device: str = "cpu", dtype: str = "float64", **params
    ) -> Any:
        """The measurement (``simulate``'s result) of the run :meth:`run` caches for these
        arguments, running it if needed; a copy, like the report."""
        key = self._ensure(name, seed, device, dtype, params)
        if key not in self.measurements:  # a run-form claim, or one stopped before simulate
            raise LookupError(f"{name}: the run kept no measurement")
        return copy.deepcopy(self.measurements[key])

    def _ensure(self, name: str, seed: int, device: str, dtype: str, params: dict) -> str:
        """The run hash of this run, after running it unless the session already has."""
        claim = registry.get_claim(name)
        values = registry.make_params(claim, params)
        settings = types.SimpleNamespace(seed=seed, device=device, dtype=dtype)
        key = registry.run_hash(claim.name, dataclasses.asdict(values), settings)
        if key in self.reports:
            self.reused += 1
            return key
        self.reports[key] = registry.run_claim(
            claim, values, seed=seed, device=device, dtype=dtype,
            on_measurement=lambda m: self.measurements.__setitem__(key, m),
        )  # fmt: skip
        self.runs += 1
        return key

    def audit(self, name: str, *, seed: int = 0, mutants: list[str] | None = None):
        """:func:`theorylab.power.audit` with its baseline (the shipped claim at the audit's
        settings) from this cache: one run fewer, shared with the tests that run the same."""
        from . import power

        settings = power.audit_settings(registry.get_claim(name))
        baseline = self.run(name, seed=seed, **settings)
        return power.audit(name, seed=seed, mutants=mutants, baseline=baseline)


_CACHE = pytest.StashKey[ReportCache]()
_RATES = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("theorylab", "theorylab claims")
    group.addoption(
        "--theorylab-seeds",
        type=int,
        default=None,
        metavar="N",
        help="run tests marked theorylab_claim over seeds 0..N-1 and require a pass rate",
    )
    group.addoption(
        "--theorylab-confidence",
        type=float,
        default=0.95,
        metavar="C",
        help="confidence of the binomial interval of --theorylab-seeds (default 0.95)",
    )
    group.addoption(
        "--theorylab-record",
        action="store_true",
        help="re-record the slack baselines of theorylab_baseline.check",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name, *, seed=0, device='cpu', dtype='float64', seeds=None, "
        f"min_pass_rate={DEFAULT_MIN_PASS_RATE}, **params): the run of claim NAME that the "
        "theorylab_report fixture gives (one run per session and run hash)",
    )
    config.stash[_CACHE] = ReportCache()
    config.stash[_RATES] = []
    seeds = config.getoption("--theorylab-seeds")
    if seeds is not None and seeds < 1:
        raise pytest.UsageError(f"--theorylab-seeds must be >= 1, got {seeds}")
    confidence = config.getoption("--theorylab-confidence")
    if not 0 < confidence < 1:
        raise pytest.UsageError(f"--theorylab-confidence must be in (0, 1), got {confidence}")


def _marker_settings(item: pytest.Item) -> tuple[str, dict[str, Any], dict[str, Any]]:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(
            f"{item.nodeid}: the theorylab_report fixture needs @pytest.mark.{MARKER}(NAME, ...)"
        )
    if len(marker.args) != 1 or not isinstance(marker.args[0], str):
        raise pytest.UsageError(f"{item.nodeid}: {MARKER} takes one claim name, then keywords")
    kwargs = dict(marker.kwargs)
    loop = {k: kwargs.pop(k) for k in LOOP_OPTIONS if k in kwargs}
    return marker.args[0], kwargs, loop


@pytest.fixture(scope="session")
def theorylab_cache(pytestconfig: pytest.Config) -> ReportCache:
    """The session's :class:`ReportCache`."""
    return pytestconfig.stash[_CACHE]


@pytest.fixture
def theorylab_run(theorylab_cache: ReportCache):
    """``theorylab_run(name, seed=0, device="cpu", dtype="float64", **params) -> Report``,
    run once per session for each run hash (bad parameters: UsageError, as ``check``)."""
    return theorylab_cache.run


@pytest.fixture
def theorylab_report(request: pytest.FixtureRequest, theorylab_cache: ReportCache) -> Report:
    """The report of the run named by the test's ``theorylab_claim`` marker."""
    name, kwargs, _loop = _marker_settings(request.node)
    return theorylab_cache.run(name, **kwargs)


class Baseline:
    """What the ``theorylab_baseline`` fixture gives (see :func:`check`)."""

    def __init__(self, directory: Path, test_name: str, record: bool) -> None:
        self.directory, self.test_name, self.record = directory, test_name, record

    def path(self, name: str | None = None) -> Path:
        stem = self.test_name if name is None else f"{self.test_name}.{name}"
        return self.directory / f"{re.sub(r'[^A-Za-z0-9_.=-]+', '_', stem)}.json"

    def check(
        self, report: Report, tolerance: float = DEFAULT_SLACK_TOLERANCE, name: str | None = None
    ) -> str:
        """Assert no statement's slack moved towards violation beyond ``tolerance`` since
        the recorded baseline (``name`` tells several baselines of one test apart)."""
        __tracebackhide__ = True
        return check_slack_baseline(
            report, self.path(name), tolerance=tolerance, record=self.record
        )


@pytest.fixture
def theorylab_baseline(request: pytest.FixtureRequest) -> Baseline:
    """Slack baselines stored beside the test (``--theorylab-record`` re-records them)."""
    test_file = Path(str(request.node.path))
    directory = test_file.parent / "theorylab_baselines" / test_file.stem
    record = request.config.getoption("--theorylab-record")
    return Baseline(directory, request.node.name, record)


def _seed_count(item: pytest.Item, loop: dict[str, Any]) -> int | None:
    option = item.config.getoption("--theorylab-seeds")
    return option if option is not None else loop.get("seeds")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a marked test once per seed when a seed count is asked for, then judge the rate."""
    if "theorylab_report" not in pyfuncitem.fixturenames:
        return None
    name, kwargs, loop = _marker_settings(pyfuncitem)
    seeds = _seed_count(pyfuncitem, loop)
    if seeds is None:
        return None
    if not isinstance(seeds, int) or seeds < 1:
        raise pytest.UsageError(f"{pyfuncitem.nodeid}: seeds must be a positive integer")
    min_rate = loop.get("min_pass_rate", DEFAULT_MIN_PASS_RATE)
    confidence = pyfuncitem.config.getoption("--theorylab-confidence")
    cache = pyfuncitem.config.stash[_CACHE]
    args = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
    failures = []
    for seed in range(seeds):
        args["theorylab_report"] = cache.run(name, **{**kwargs, "seed": seed})
        try:
            pyfuncitem.obj(**args)
        except (AssertionError, pytest.fail.Exception) as exc:
            failures.append((seed, exc))
    rate = PassRate(seeds - len(failures), seeds, confidence)
    line = f"{name}: {rate.describe(min_rate)}"
    if failures:
        line += f"; failed seeds {', '.join(str(s) for s, _ in failures)}"
    pyfuncitem.config.stash[_RATES].append((pyfuncitem.nodeid, line))
    pyfuncitem.user_properties.append(("theorylab_pass_rate", line))
    if not rate.consistent_with(min_rate):
        seed, first = failures[0]
        raise AssertionError(f"{line}\nfirst failure (seed {seed}):\n{first}")
    return True


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    rates = config.stash.get(_RATES, [])
    cache = config.stash.get(_CACHE, None)
    if not rates and (cache is None or cache.runs == 0):
        return
    terminalreporter.section("theorylab")
    for nodeid, line in rates:
        terminalreporter.write_line(f"{nodeid}: {line}")
    if cache is not None and cache.runs:
        terminalreporter.write_line(
            f"claim runs: {cache.runs}, reused from the session cache: {cache.reused}"
        )
