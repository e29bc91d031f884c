"""The contract every registered claim keeps (docs/design.md), one test per claim and clause.

In-process through ``theorylab.check.main(argv)``, the same code path as ``python -m
theorylab.check``; a real process only where one is needed (exit status, stderr and a signal
end to end, and what a fresh interpreter imports):

- ``CLAIM --help`` exits 0 and lists every parameter;
- bad inputs (below a minimum, above a maximum, not a choice, not a number, unknown option)
  exit 2 with exactly one line on stderr, nothing on stdout, before any work;
- the same seed gives byte-identical JSON apart from ``timing`` (at ``Claim.quick``: one run
  from the session's report cache, ``theorylab_cache`` of theorylab's pytest plugin, which
  the claim's own tests share, and one through the command line);
- the JSON round-trips (``Report.from_json(text).to_json() == text``);
- every statement carries a power label;
- the negative control (``Claim.negative_control`` over ``Claim.quick``) exits 1 (its
  report's exit status, through the same cache, shared with the claim's own tests);
- ``--list`` and ``CLAIM --help`` import neither torch nor sympy nor matplotlib.

A claim that does not yet declare ``quick`` or ``negative_control`` is skipped with that
reason (the lead checks that no skip remains).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from theorylab import registry
from theorylab.check import main
from theorylab.report import POWER_LABELS, Report

CLAIMS = sorted(registry.CLAIM_MODULES)
HEAVY = ("torch", "sympy", "matplotlib")
# Claim modules allowed, for now, to import torch (or sympy, matplotlib) at their top level:
# a non-strict xfail while their owner makes them light. Empty since every claim is light
# (measured with benchmarks/cli.py); a claim added here needs a reason in the commit.
NOT_YET_LIGHT: frozenset[str] = frozenset()


def claim_of(name: str) -> registry.Claim:
    return registry.get_claim(name)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def argv_for(claim: registry.Claim, values: dict) -> list[str]:
    """Command-line arguments that set ``values`` (booleans as --x / --no-x)."""
    argv = []
    for name, value in values.items():
        if isinstance(value, bool):
            argv.append(flag(name) if value else "--no-" + name.replace("_", "-"))
        elif value is None:
            argv += [flag(name), "none"]
        else:
            argv += [flag(name), repr(value) if isinstance(value, float) else str(value)]
    return argv


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLAIMS)
def test_help_lists_every_parameter(name, capsys):
    claim = claim_of(name)
    status, out, err = run_cli(capsys, name, "--help")
    assert status == 0 and err == ""
    for f in dataclasses.fields(claim.params):
        assert flag(f.name) in out, f"{name} --help does not list {flag(f.name)}"
    for option in ("--seed", "--device", "--dtype", "--json", "--plot", "--quiet"):
        assert option in out
    assert claim.summary.split()[0] in out


# Bad inputs ----------------------------------------------------------------------------------


def bad_values(claim: registry.Claim) -> list[tuple[str, str]]:
    """(option, value) pairs every claim must refuse, drawn from its parameter metadata."""
    cases = [("--no-such-option", "1")]
    for f in dataclasses.fields(claim.params):
        base, _optional = registry.field_type(claim.params, f)
        meta = f.metadata
        if base is int:
            cases.append((flag(f.name), "1.5"))
        if base in (int, float):
            cases.append((flag(f.name), "twelve"))
            if meta.get("minimum") is not None:
                low = meta["minimum"] - (1 if base is int else max(1.0, abs(meta["minimum"])))
                cases.append((flag(f.name), str(low)))
            if meta.get("maximum") is not None:
                high = meta["maximum"] + (1 if base is int else max(1.0, abs(meta["maximum"])))
                cases.append((flag(f.name), str(high)))
        if base is float:
            cases += [(flag(f.name), "nan"), (flag(f.name), "inf")]
        if meta.get("choices"):
            cases.append((flag(f.name), "not-a-choice"))
    return cases


@pytest.mark.parametrize("name", CLAIMS)
def test_bad_inputs_exit_2_with_one_line(name, capsys, no_run):
    claim = claim_of(name)
    for option, value in bad_values(claim):
        status, out, err = run_cli(capsys, name, f"{option}={value}")
        assert status == 2, f"{name} {option}={value}: exit {status}, stderr {err!r}"
        assert out == "" and err.count("\n") == 1, f"{name} {option}={value}: {err!r}"
        assert "Traceback" not in err
    for argv in (["--seed", "-1"], ["--device", "tpu"], ["--dtype", "float16"]):
        status, _, err = run_cli(capsys, name, *argv)
        assert status == 2 and err.count("\n") == 1, (argv, err)


# Runs at Claim.quick -------------------------------------------------------------------------

_cli_runs: dict[str, tuple[int, str]] = {}


def quick_runs(name, theorylab_cache, tmp_path_factory, capsys) -> tuple[Report, int, str]:
    """Two runs of ``name`` at its quick settings, seed 0: one through the session's report
    cache (shared with the claim's own tests, which use the same cache), one through the
    command line with ``--json`` (status and JSON text, kept for the other clauses)."""
    claim = claim_of(name)
    if not claim.quick:
        pytest.skip(f"{name} declares no Claim.quick yet")
    if name not in _cli_runs:
        path = tmp_path_factory.mktemp(f"contract-{name}") / "report.json"
        argv = [name, *argv_for(claim, claim.quick), "--json", str(path), "--quiet"]
        status = main(argv)
        err = capsys.readouterr().err
        assert status != 4, f"{name} at quick settings: {err}"
        assert path.exists(), f"{name} at quick settings wrote no report: {err}"
        _cli_runs[name] = (status, path.read_text())
    status, text = _cli_runs[name]
    return theorylab_cache.run(name, seed=0, **claim.quick), status, text


def without_timing(text: str) -> str:
    data = json.loads(text)
    data.pop("timing", None)
    return json.dumps(data, indent=1)


@pytest.mark.parametrize("name", CLAIMS)
def test_same_seed_gives_byte_identical_json(name, theorylab_cache, tmp_path_factory, capsys):
    cached, status, text = quick_runs(name, theorylab_cache, tmp_path_factory, capsys)
    assert status == Report.from_json(text).exit_status == cached.exit_status
    assert without_timing(cached.to_json()) == without_timing(text)
    if claim_of(name).power_params is None:  # the power audit's baseline: quick must hold
        assert status == 0, f"{name} does not hold at its quick settings"


@pytest.mark.parametrize("name", CLAIMS)
def test_json_round_trip_and_power_labels(name, theorylab_cache, tmp_path_factory, capsys):
    _, _, text = quick_runs(name, theorylab_cache, tmp_path_factory, capsys)
    report = Report.from_json(text)
    assert report.to_json() + "\n" == text
    assert report.claim == name and report.run_hash
    assert set(json.loads(text)["params"]) == {
        f.name for f in dataclasses.fields(claim_of(name).params)
    }
    assert report.statements, f"{name} made no statement at its quick settings"
    for s in report.statements:
        assert s.power in POWER_LABELS, f"{name}.{s.name} has no power label ({s.power!r})"


@pytest.mark.parametrize("name", CLAIMS)
def test_negative_control_exits_1(name, theorylab_cache):
    """Through the session's report cache (a claim's own tests asking for the same run share
    it); the exit status is the report's, which the command line returns (checked above)."""
    claim = claim_of(name)
    if claim.negative_control is None:
        pytest.skip(f"{name} declares no Claim.negative_control yet")
    if not claim.quick:
        pytest.skip(f"{name} declares no Claim.quick yet")
    report = theorylab_cache.run(name, seed=0, **{**claim.quick, **claim.negative_control})
    assert report.exit_status == 1, (
        f"{name} negative control {claim.negative_control}: {report.verdict}\n{report.table()}"
    )


# What a real process shows -------------------------------------------------------------------

LIGHT_PROBE = """
import sys
from theorylab.check import main
status = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "sympy", "matplotlib"})
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(status)
"""


def probe(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "THEORYLAB_PROGRESS": "0"}
    return subprocess.Popen(
        [sys.executable, "-c", LIGHT_PROBE, *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def heavy_modules(proc: subprocess.Popen) -> tuple[int, list[str]]:
    _, err = proc.communicate(timeout=300)
    line = [x for x in err.splitlines() if x.startswith("HEAVY=")][-1]
    return proc.returncode, [m for m in line[len("HEAVY=") :].split(",") if m]


def test_list_imports_no_heavy_module():
    status, heavy = heavy_modules(probe("--list"))
    assert status == 0 and heavy == [], f"--list imported {heavy}"


@pytest.fixture(scope="module")
def help_probes():
    """``CLAIM --help`` for every claim, in fresh interpreters started side by side."""
    procs = {name: probe(name, "--help") for name in CLAIMS}
    return {name: heavy_modules(proc) for name, proc in procs.items()}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=pytest.mark.xfail(
                n in NOT_YET_LIGHT, reason=f"{n}: claim module not yet light at top level"
            ),
        )
        for n in CLAIMS
    ],
)
def test_help_imports_no_heavy_module(name, help_probes):
    status, heavy = help_probes[name]
    assert status == 0 and heavy == [], f"{name} --help imported {heavy}"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see torch loaded")
def test_exit_status_stderr_and_sigint_end_to_end():
    """The module entry point: no arguments is exit 2 with one stderr line; Ctrl-C during a
    run is exit 130 with one line and no traceback."""
    env = {**os.environ, "THEORYLAB_PROGRESS": "0"}
    bare = subprocess.run(
        [sys.executable, "-m", "theorylab.check"], capture_output=True, text=True, env=env
    )
    assert bare.returncode == 2 and bare.stdout == "" and bare.stderr.count("\n") == 1
    proc = subprocess.Popen(
        [sys.executable, "-m", "theorylab.check", "near_init", "--steps", "100000", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not torch_loaded(proc.pid):  # in main(): the claim is being set up or run
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert err.strip() == "theorylab.check: interrupted" and "Traceback" not in err


def torch_loaded(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libtorch_cpu" in f.read()
    except OSError:
        return False
